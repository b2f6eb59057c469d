import Foundation
import NIOCore

extension BenchScenarios {
    /// What ``queuePushes(_:_:_:)`` measured.
    struct QueuePushFigures {
        var figures: [String: Double] = [:]
        var notes: [String] = []
    }

    /// Position pushes to `queuePushClients` live queued clients (issue 15, item 5), on a server of its own:
    ///
    /// 1. Heartbeat lateness without them: `silent` clients of a project fall silent at 500 a second and the
    ///    server's detection lateness is taken (as `expiry-steady` does).
    /// 2. A full pool (capacity 1, held by a reservation) with a queue: a few tickets at its head that no client
    ///    holds, then `queuePushClients` tickets whose clients wait live (load processes, role `queued`,
    ///    answering server pings). Every second one head ticket is cancelled, so every live client's position
    ///    moves and the broker pushes all of them each second: the most it ever pushes.
    /// 3. While that runs, the lateness of step 1 again, with another `silent` clients.
    ///
    /// Figures: pushes per second, per client per second, the shortest time between two pushes to one client,
    /// clients kicked (a healthy queued client never is), and the two latenesses.
    static func queuePushes(_ context: BenchContext, _ tracker: Tracker, _ options: BenchOptions) async throws
        -> QueuePushFigures
    {
        var out = QueuePushFigures()
        let n = options.queuePushClients
        let seconds = options.queuePushSeconds
        let silent = max(50, min(1_000, n / 10))
        let server = tracker.track(try await context.startServer())

        let before = try await silentLateness(context, tracker, server, options, project: "late-0", count: silent)
        out.figures["lateness0P99Ms"] = before.p99
        out.figures["lateness0MaxMs"] = before.max

        // One head ticket is cancelled a second for as long as the pushes are measured (at least `seconds`,
        // and until the second lateness measure is over).
        let heads = Int(seconds) + 120
        try await context.createProject(
            server, id: "qp", capacity: 1, intervalMs: 5_000, timeoutMs: 15_000,
            extra: #","queue":{"enabled":true,"maxLength":\#(n + heads + 10),"clientTimeoutMs":30000}"#)
        let conn = try await context.api(server)
        defer { conn.close() }
        let held = try await conn.request(
            "POST", "/v1/projects/qp/concurrency/apply", body: #"{"userId":"holder"}"#
        ).get()
        guard held.status == 200 else { throw BenchError("holder: \(held.status) \(held.text)") }
        for i in 0..<heads {
            let queued = try await conn.request(
                "POST", "/v1/projects/qp/concurrency/apply", body: #"{"userId":"head-\#(i)","queue":true}"#
            ).get()
            guard queued.status == 202 else { throw BenchError("head ticket: \(queued.status) \(queued.text)") }
        }
        let waiting = tracker.track(
            try await context.spawnWorkers(
                server,
                context.workerConfig(
                    .queued, projectId: "qp", userPrefix: "w-", transport: options.transport, intervalMs: 5_000,
                    timeoutMs: 15_000), total: n))

        let startMs = BenchProc.wallMs() + 500
        context.start(waiting, at: startMs)
        await context.sleep(until: startMs)
        let cpu0 = server.cpu
        let churn = Task {
            for i in 0..<heads {
                let next = startMs + Double(i + 1) * 1_000
                try await Task.sleep(for: .milliseconds(Int64(max(0, next - BenchProc.wallMs()))))
                _ = try? await conn.request("DELETE", "/v1/projects/qp/queue/head-\(i)").get()
            }
        }
        // The pushes are under way before the clients fall silent.
        await context.sleep(until: startMs + 1_500)
        let during = try await silentLateness(context, tracker, server, options, project: "late-1", count: silent)
        await context.sleep(until: startMs + seconds * 1_000)
        let windowSeconds = (BenchProc.wallMs() - startMs) / 1_000
        let cpu1 = server.cpu
        context.stop(waiting)
        churn.cancel()
        let results = try await context.results(waiting)

        let pushes = results.reduce(0) { $0 + $1.pushes }
        let connected = results.reduce(0) { $0 + $1.welcomed }
        out.figures["queuedClients"] = Double(connected)
        out.figures["pushesPerSecond"] = Double(pushes) / windowSeconds
        out.figures["pushesPerClientPerSecond"] = Double(pushes) / windowSeconds / Double(max(1, connected))
        out.figures["pushedClients"] = Double(results.reduce(0) { $0 + $1.pushedClients })
        if let gap = results.compactMap(\.minPushGapMs).min() { out.figures["pushMinGapMs"] = gap }
        out.figures["queuedKicked"] = Double(results.reduce(0) { $0 + $1.kicks.values.reduce(0, +) })
        out.figures["pushServerCpuCores"] = (cpu1 - cpu0).total / windowSeconds
        out.figures["lateness1P99Ms"] = during.p99
        out.figures["lateness1MaxMs"] = during.max
        out.notes.append(
            "pushes: \(connected) live queued clients (\(options.transport)), every position moved each second for "
                + "\(Int(windowSeconds)) s; lateness0 = detection lateness of \(silent) silent clients before, lateness1 while "
                + "the places are pushed")
        if connected < n { out.notes.append("only \(connected) of \(n) queued clients connected") }
        if during.missed > 0 || before.missed > 0 {
            out.notes.append("missed expiries: \(before.missed) before, \(during.missed) during")
        }
        return out
    }

    /// `count` clients of a new project fall silent at 500 a second; the server's detection lateness (ms).
    static func silentLateness(
        _ context: BenchContext, _ tracker: Tracker, _ server: BenchServer, _ options: BenchOptions, project: String,
        count: Int
    ) async throws -> (p99: Double, max: Double, missed: Int) {
        try await context.createProject(
            server, id: project, capacity: count + 10, intervalMs: options.intervalMs, timeoutMs: options.timeoutMs)
        var config = context.workerConfig(
            .expire, projectId: project, userPrefix: "s-", transport: options.transport,
            intervalMs: options.intervalMs, timeoutMs: options.timeoutMs)
        config.expireRate = 500
        let workers = tracker.track(try await context.spawnWorkers(server, config, total: count))
        let startMs = BenchProc.wallMs() + 500
        context.start(workers, at: startMs)
        let results = try await context.results(
            workers, timeout: (Double(count) * 2 + Double(options.timeoutMs)) / 1_000 + 60)
        let late = Lateness(
            silent: results, events: try await context.events(server, projectId: project), timeoutMs: options.timeoutMs)
        let summary = LatencySummary(late.detection)
        return (summary?.p99 ?? .nan, summary?.max ?? .nan, late.missed)
    }
}
