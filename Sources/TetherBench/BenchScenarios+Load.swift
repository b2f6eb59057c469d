import Foundation

extension BenchScenarios {
    /// `heartbeats`: closed-loop pings over many connections (each under the server's 50/s limit); counts
    /// the pongs received in the window, and the server's CPU per pong.
    static func heartbeats(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        try await scenario(context) { tracker in
            let n = options.heartbeatConnections
            var result = makeResult(
                "heartbeats",
                [
                    "connections": Double(n), "windowSeconds": options.heartbeatSeconds,
                    "perConnectionRate": options.perConnectionRate, "workers": Double(options.heartbeatWorkers),
                ])
            let server = tracker.track(try await context.startServer())
            let measured = try await hammer(context, tracker, server, options, connections: n, projectId: "bench")
            result.serverCPU = measured.serverCPU
            result.loadCPU = measured.loadCPU
            result.windowSeconds = measured.seconds
            result.figures.merge(measured.figures) { $1 }
            result.goal("ackedPerSecond", ">=", 50_000)
            result.goal("serverCpuUsPerHeartbeat", "<=", 12)
            result.notes.append("rttP50Ms is the mean of the load processes' medians, rttP99Ms the worst of their p99s")
            if let bound = HeartbeatBound(
                figures: result.figures, cores: ProcessInfo.processInfo.activeProcessorCount)
            {
                result.notes.append(bound.description)
            }
            return result
        }
    }

    /// What ``hammer(_:_:_:_:connections:projectId:)`` measured.
    struct HammerFigures {
        var figures: [String: Double]
        var serverCPU: CPUTime
        var loadCPU: CPUTime
        var seconds: Double
        /// Kicks by reason.
        var kicks: [String: Int] = [:]
    }

    /// `connections` clients of project `projectId` (made here) pinging `server` at `perConnectionRate` for
    /// `heartbeatSeconds` after a warm-up: heartbeats answered per second, the server's CPU per heartbeat,
    /// round trips, and kicks (a healthy client is never kicked: each is a false expiry).
    static func hammer(
        _ context: BenchContext, _ tracker: Tracker, _ server: BenchServer, _ options: BenchOptions, connections n: Int,
        projectId: String
    ) async throws -> HammerFigures {
        try await context.createProject(server, id: projectId, capacity: n + 10, intervalMs: 10_000, timeoutMs: 30_000)
        var config = context.workerConfig(
            .hammer, projectId: projectId, userPrefix: "u-", transport: options.transport, intervalMs: 5_000,
            timeoutMs: 30_000)
        config.perConnectionRate = options.perConnectionRate
        config.warmupMs = options.heartbeatWarmupMs
        config.windowMs = Int64(options.heartbeatSeconds * 1_000)
        let perWorker = (n + options.heartbeatWorkers - 1) / max(1, options.heartbeatWorkers)
        let workers = tracker.track(
            try await context.spawnWorkers(
                server, config, total: n, perWorker: min(perWorker, context.clientsPerWorker)))
        let startMs = BenchProc.wallMs() + 1_000
        let windowStart = startMs + Double(config.warmupMs)
        let windowEnd = windowStart + Double(config.windowMs)
        context.start(workers, at: startMs)
        await context.sleep(until: windowStart)
        let cpu0 = server.cpu
        await context.sleep(until: windowEnd)
        let cpu1 = server.cpu
        let results = try await context.results(workers)
        let pongs = results.reduce(0) { $0 + $1.windowCount }
        let seconds = Double(config.windowMs) / 1_000
        var out = HammerFigures(figures: [:], serverCPU: cpu1 - cpu0, loadCPU: loadCPU(results), seconds: seconds)
        out.figures["ackedPerSecond"] = Double(pongs) / seconds
        if pongs > 0 {
            out.figures["serverCpuUsPerHeartbeat"] = out.serverCPU.total / Double(pongs) * 1e6
            out.figures["loadCpuUsPerHeartbeat"] = out.loadCPU.total / Double(pongs) * 1e6
        }
        out.figures["serverCpuCores"] = out.serverCPU.total / seconds
        out.figures["loadCpuCores"] = out.loadCPU.total / seconds
        out.figures["connections"] = Double(results.reduce(0) { $0 + $1.welcomed })
        let rtts = results.compactMap(\.latencyMs)
        if !rtts.isEmpty {
            out.figures["rttP50Ms"] = rtts.map(\.p50).reduce(0, +) / Double(rtts.count)
            out.figures["rttP99Ms"] = rtts.map(\.p99).max()
        }
        out.figures["kicks"] = Double(results.reduce(0) { $0 + $1.kicks.values.reduce(0, +) })
        for result in results { out.kicks.merge(result.kicks, uniquingKeysWith: +) }
        return out
    }

    /// `hold`: `holdSessions` WebSocket clients heartbeating every 5 s (timeout 15 s) for `holdSeconds`;
    /// counts how many stay connected and any kick or disconnection (false expiries).
    static func hold(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        try await scenario(context) { tracker in
            let n = options.holdSessions
            var result = makeResult("hold", ["sessions": Double(n), "seconds": options.holdSeconds])
            let server = tracker.track(try await context.startServer())
            try await context.createProject(server, id: "bench", capacity: n + 10, intervalMs: 5_000, timeoutMs: 15_000)
            let workers = tracker.track(
                try await context.spawnWorkers(
                    server,
                    context.workerConfig(
                        .heartbeat, projectId: "bench", userPrefix: "u-", transport: "ws", intervalMs: 5_000,
                        timeoutMs: 15_000), total: n))
            let startMs = BenchProc.wallMs() + 200
            context.start(workers, at: startMs)
            await context.sleep(until: startMs)
            let cpu0 = server.cpu
            var peakRSS = server.rss
            let endMs = startMs + options.holdSeconds * 1_000
            while BenchProc.wallMs() < endMs {
                try await Task.sleep(for: .milliseconds(Int64(min(1_000, max(1, endMs - BenchProc.wallMs())))))
                peakRSS = max(peakRSS, server.rss)
            }
            let cpu1 = server.cpu
            context.stop(workers)
            let results = try await context.results(workers)
            let clients = results.flatMap(\.clients)
            let held = clients.filter { $0.closedMs == nil || $0.closedMs! >= endMs }.count
            let events = try await context.events(server, projectId: "bench")
            let disconnected = events.filter { $0.type == "session.disconnected" && $0.at <= Int64(endMs) }.count
            let kicked = clients.filter { $0.kickMs != nil }.count
            result.serverCPU = cpu1 - cpu0
            result.loadCPU = loadCPU(results)
            result.windowSeconds = options.holdSeconds
            result.figures["sessionsHeld"] = Double(held)
            result.figures["falseExpiries"] = Double(max(disconnected, kicked))
            result.figures["failedConnects"] = Double(results.reduce(0) { $0 + $1.failed })
            result.figures["serverPeakRssBytes"] = Double(peakRSS)
            result.figures["serverCpuCores"] = result.serverCPU.total / options.holdSeconds
            result.goal("sessionsHeld", ">=", 19_000)
            result.goal("falseExpiries", "<=", 0)
            return result
        }
    }

    /// `memory`: the server's RSS growth over `memorySessions` idle connected WebSocket sessions (created,
    /// connected, quiet: a 60 s interval, answering the server's pings), divided by their number. A first
    /// group of sessions warms the server up before the baseline is read.
    static func memory(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        try await scenario(context) { tracker in
            let n = options.memorySessions
            let warm = max(50, n / 20)
            var result = makeResult("memory", ["sessions": Double(n), "warmupSessions": Double(warm)])
            let server = tracker.track(try await context.startServer())
            try await context.createProject(
                server, id: "bench", capacity: n + warm + 10, intervalMs: 60_000, timeoutMs: 180_000)
            var config = context.workerConfig(
                .idle, projectId: "bench", userPrefix: "u-", transport: "ws", intervalMs: 60_000, timeoutMs: 180_000)
            let first = tracker.track(try await context.spawnWorkers(server, config, total: warm))
            try await Task.sleep(for: .seconds(1))
            let before = server.rss
            config.firstIndex = warm
            let cpu0 = server.cpu
            let startMs = BenchProc.wallMs()
            let rest = tracker.track(try await context.spawnWorkers(server, config, total: n))
            try await Task.sleep(for: .seconds(2))
            let after = server.rss
            let cpu1 = server.cpu
            let all = first + rest
            context.start(all, at: BenchProc.wallMs())
            context.stop(all)
            let results = try await context.results(all)
            let connected = results.dropFirst(first.count).reduce(0) { $0 + $1.welcomed }
            result.serverCPU = cpu1 - cpu0
            result.windowSeconds = (BenchProc.wallMs() - startMs) / 1_000
            result.figures["rssBeforeBytes"] = Double(before)
            result.figures["rssAfterBytes"] = Double(after)
            result.figures["sessions"] = Double(connected)
            if connected > 0 { result.figures["bytesPerSession"] = Double(after - before) / Double(connected) }
            result.goal("bytesPerSession", "<=", 4_096)
            result.notes.append("server CPU covers creating and connecting the sessions")
            return result
        }
    }
}
