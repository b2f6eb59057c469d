import Foundation
import Testing

/// Runs the built `tether` binary as a backend client and collects what it printed.
struct CLI {
    /// What one run printed, and how it exited.
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String

        /// stdout parsed as JSON.
        func json() throws -> [String: Any] {
            let value = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
            return try #require(value as? [String: Any], "not a JSON object: \(stdout)")
        }
    }

    /// `TETHER_URL`/`TETHER_API_KEY` for the run (nil: unset).
    var url: String?
    var apiKey: String?

    /// Runs `tether <arguments>` with the environment above (and nothing else of ours).
    func run(_ arguments: String...) async throws -> Result { try await run(arguments) }

    func run(_ arguments: [String]) async throws -> Result {
        let process = try start(arguments)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            process.process.terminationHandler = { _ in done.resume() }
            if !process.process.isRunning {
                process.process.terminationHandler = nil
                done.resume()
            }
        }
        return process.result()
    }

    /// Starts `tether <arguments>` in the background (for `events --follow`).
    func start(_ arguments: [String]) throws -> Running {
        let running = Running()
        running.process.executableURL = ServeProcess.binary
        running.process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TETHER_URL"] = url
        environment["TETHER_API_KEY"] = apiKey
        running.process.environment = environment
        _ = FileManager.default.createFile(atPath: running.out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: running.err.path, contents: nil)
        running.process.standardOutput = try FileHandle(forWritingTo: running.out)
        running.process.standardError = try FileHandle(forWritingTo: running.err)
        try running.process.run()
        return running
    }

    /// A run in progress; its output goes to temporary files.
    final class Running: @unchecked Sendable {
        let process = Process()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-\(UUID()).out")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-\(UUID()).err")

        /// What it printed so far.
        var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }

        /// The result after it exited.
        func result() -> Result {
            process.waitUntilExit()
            let r = Result(
                status: process.terminationStatus, stdout: stdout,
                stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
            return r
        }

        /// SIGTERM, then the result.
        func stop() -> Result {
            if process.isRunning { process.terminate() }
            return result()
        }
    }
}
