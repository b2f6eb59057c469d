import NIOCore
import NIOPosix

extension BenchScenarios {
    /// `release`: connected clients say `bye` one after the other (`releaseRate`/s); a reader of the event
    /// stream in the same process times each `concurrency.released` from the moment its `bye` was written.
    static func release(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        try await scenario(context) { tracker in
            let n = options.releaseCount
            var result = makeResult("release", ["byes": Double(n), "ratePerSecond": options.releaseRate])
            let server = tracker.track(try await context.startServer())
            try await context.createProject(server, id: "bench", capacity: n + 10, intervalMs: 5_000, timeoutMs: 15_000)
            var config = context.workerConfig(
                .release, projectId: "bench", userPrefix: "u-", transport: options.transport, intervalMs: 5_000,
                timeoutMs: 15_000)
            config.releaseRate = options.releaseRate
            let workers = tracker.track(try await context.spawnWorkers(server, config, total: n, perWorker: n))
            let startMs = BenchProc.wallMs() + 500
            context.start(workers, at: startMs)
            await context.sleep(until: startMs)
            let cpu0 = server.cpu
            let results = try await context.results(workers, timeout: Double(n) / options.releaseRate + 60)
            let cpu1 = server.cpu
            result.serverCPU = cpu1 - cpu0
            result.loadCPU = loadCPU(results)
            result.windowSeconds = (BenchProc.wallMs() - startMs) / 1_000
            if let l = results.first?.latencyMs {
                result.figures["releaseP50Ms"] = l.p50
                result.figures["releaseP99Ms"] = l.p99
                result.figures["releaseMaxMs"] = l.max
                result.figures["measured"] = Double(l.count)
            }
            result.figures["missing"] = Double(results.reduce(0) { $0 + $1.missing })
            let mode = results.first?.eventMode ?? "none"
            result.notes.append(
                "events read by \(mode == "sse" ? "SSE (text/event-stream)" : "polling GET /v1/events every 1 ms")")
            result.goal("releaseP99Ms", "<=", 15)
            return result
        }
    }

    /// `api`: `apiClients` keep-alive connections loop ApplyConcurrent → CreateSession → DestroySession (each
    /// a durable operation, acknowledged after its commit); counts operations per second and their latency.
    static func api(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        try await scenario(context) { tracker in
            let n = options.apiClients
            var result = makeResult(
                "api",
                ["clients": Double(n), "windowSeconds": options.apiSeconds, "workers": Double(options.apiWorkers)])
            let server = tracker.track(try await context.startServer())
            try await context.createProject(server, id: "bench", capacity: n + 10, intervalMs: 5_000, timeoutMs: 15_000)
            var config = context.workerConfig(
                .api, projectId: "bench", userPrefix: "u-", transport: "ws", intervalMs: 5_000, timeoutMs: 15_000)
            config.warmupMs = options.apiWarmupMs
            config.windowMs = Int64(options.apiSeconds * 1_000)
            let perWorker = (n + options.apiWorkers - 1) / max(1, options.apiWorkers)
            let workers = tracker.track(try await context.spawnWorkers(server, config, total: n, perWorker: perWorker))
            let startMs = BenchProc.wallMs() + 500
            let windowStart = startMs + Double(config.warmupMs)
            context.start(workers, at: startMs)
            await context.sleep(until: windowStart)
            let cpu0 = server.cpu
            await context.sleep(until: windowStart + Double(config.windowMs))
            let cpu1 = server.cpu
            let results = try await context.results(workers)
            let ops = results.reduce(0) { $0 + $1.windowCount }
            let seconds = options.apiSeconds
            result.serverCPU = cpu1 - cpu0
            result.loadCPU = loadCPU(results)
            result.windowSeconds = seconds
            result.figures["opsPerSecond"] = Double(ops) / seconds
            result.figures["cyclesPerSecond"] = Double(ops) / 3 / seconds
            let all = results.compactMap(\.latencyMs)
            if !all.isEmpty {
                result.figures["p50Ms"] = all.map(\.p50).reduce(0, +) / Double(all.count)
                result.figures["p99Ms"] = all.map(\.p99).max()
                result.figures["maxMs"] = all.map(\.max).max()
            }
            for kind in ["apply", "create", "destroy"] {
                if let p99 = results.compactMap({ $0.latencyByKindMs[kind]?.p99 }).max() {
                    result.figures["\(kind)P99Ms"] = p99
                }
            }
            result.figures["errors"] = Double(results.reduce(0) { $0 + $1.errors.values.reduce(0, +) })
            if ops > 0 { result.figures["serverCpuUsPerOp"] = result.serverCPU.total / Double(ops) * 1e6 }
            result.goal("opsPerSecond", ">=", 5_000)
            result.goal("p99Ms", "<=", 20)
            result.notes.append("an op is one apply, create or destroy request; p99Ms is the worst load process's p99")
            return result
        }
    }

    /// `restart`: `restartSessions` connected sessions, then `kill -9` and a restart on the same data file and
    /// ports; times how long until `/readyz` answers 200 (from the new process's spawn) and counts the
    /// sessions still held (`running` of DescribeConcurrentCount) before and after.
    static func restart(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        try await scenario(context) { tracker in
            let n = options.restartSessions
            var result = makeResult("restart", ["sessions": Double(n)])
            let first = tracker.track(
                try await BenchServer.start(
                    executable: context.executable, directory: context.directory,
                    dataPath: "\(context.directory)/restart.sqlite", apiKey: "tk_bench_restart",
                    apiPort: BenchServer.freePort(), clientPort: BenchServer.freePort(),
                    extraArguments: context.tlsArguments))
            try await context.createProject(first, id: "bench", capacity: n + 10, intervalMs: 5_000, timeoutMs: 15_000)
            let workers = tracker.track(
                try await context.spawnWorkers(
                    first,
                    context.workerConfig(
                        .heartbeat, projectId: "bench", userPrefix: "u-", transport: options.transport,
                        intervalMs: 5_000,
                        timeoutMs: 15_000), total: n))
            let before = try await context.concurrency(first, projectId: "bench")
            let killedNs = BenchProc.monotonicNs()
            await first.kill9()
            let second = tracker.track(
                try await BenchServer.start(
                    executable: context.executable, directory: context.directory, dataPath: first.dataPath,
                    apiKey: first.apiKey, apiPort: first.apiPort, clientPort: first.clientPort, tcpPort: first.tcpPort,
                    waitForListening: false, extraArguments: context.tlsArguments))
            let readyNs = try await waitUntilReady(context, port: first.apiPort, timeout: 120)
            let after = try await context.concurrency(second, projectId: "bench")
            context.start(workers, at: BenchProc.wallMs())
            context.stop(workers)
            _ = try await context.results(workers)
            let runningBefore = before["running"] ?? 0
            let runningAfter = after["running"] ?? 0
            result.windowSeconds = Double(readyNs - second.spawnedNs) / 1e9
            result.figures["readyMs"] = Double(readyNs - second.spawnedNs) / 1e6
            result.figures["readyFromKillMs"] = Double(readyNs - killedNs) / 1e6
            result.figures["sessionsBefore"] = Double(runningBefore)
            result.figures["sessionsAfter"] = Double(runningAfter)
            result.figures["sessionsLost"] = Double(max(0, runningBefore - runningAfter))
            result.figures["graceAfter"] = Double(after["grace"] ?? 0)
            result.goal("readyMs", "<=", 2_000)
            result.goal("sessionsLost", "<=", 0)
            return result
        }
    }

    /// Polls `GET /readyz` (a new connection each time) until it answers 200; returns the monotonic ns.
    static func waitUntilReady(_ context: BenchContext, port: Int, timeout: Double) async throws -> UInt64 {
        let deadline = BenchProc.monotonicNs() + UInt64(timeout * 1e9)
        while BenchProc.monotonicNs() < deadline {
            if let conn = try? await BenchHTTPConnection.connect(
                on: context.group.next(), port: port, apiKey: "", tls: context.clientTLS
            ).get() {
                let reply = try? await conn.request("GET", "/readyz").get()
                conn.close()
                if reply?.status == 200 { return BenchProc.monotonicNs() }
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw BenchError("the restarted server was not ready within \(timeout) s")
    }
}
