import Foundation

/// The scenarios of `tether bench` (one file per group of scenarios), and what they share.
enum BenchScenarios {
    /// Servers and load processes of one scenario, so they are stopped whatever happens.
    final class Tracker {
        var servers: [BenchServer] = []
        var workers: [BenchWorkerHandle] = []

        func track(_ server: BenchServer) -> BenchServer {
            servers.append(server)
            return server
        }

        func track(_ workers: [BenchWorkerHandle]) -> [BenchWorkerHandle] {
            self.workers += workers
            return workers
        }

        func cleanUp(_ context: BenchContext) async {
            await context.kill(workers)
            for server in servers where server.child.process.isRunning { await server.stop() }
        }
    }

    /// Runs `body` with a tracker and stops what it started afterwards.
    static func scenario(
        _ context: BenchContext, _ body: (Tracker) async throws -> ScenarioResult
    ) async throws -> ScenarioResult {
        let tracker = Tracker()
        let started = BenchProc.wallMs()
        do {
            var result = try await body(tracker)
            await tracker.cleanUp(context)
            result.totalSeconds = (BenchProc.wallMs() - started) / 1_000
            return result
        } catch {
            await tracker.cleanUp(context)
            throw error
        }
    }

    /// An empty result to fill.
    static func makeResult(_ name: String, _ parameters: [String: Double]) -> ScenarioResult {
        ScenarioResult(
            name: name, parameters: parameters, figures: [:], goals: [], serverCPU: .zero, loadCPU: .zero,
            windowSeconds: 0, totalSeconds: 0, notes: [])
    }

    /// The load processes' CPU in their windows, summed.
    static func loadCPU(_ results: [WorkerResult]) -> CPUTime {
        results.reduce(CPUTime.zero) { $0 + $1.windowCPU }
    }
}
