import Foundation
import Synchronization
import TetherClient
import TetherProtocol

extension BenchScenarios {
    /// `cluster`: three `tether serve` nodes on a new database of one PostgreSQL server (`--postgres`, else
    /// `TETHER_BENCH_POSTGRES_URL`, else one started here with scripts/postgres.sh; ``BenchDatabase``), node timeout
    /// `clusterNodeTimeoutMs`. Figures, in order: create + destroy cycles from `apiClients` API clients spread
    /// over the three nodes; a kick across nodes (DestroySession sent to a follower, until the client on the
    /// owner has its `destroyed` kick); the owner killed with SIGKILL under `clusterClients` SDK clients (when
    /// each session's `session.disconnected` reached an SSE reader on a follower, and when each client was
    /// welcomed again, on which concurrency); then heartbeats per second and false expiries of one node on
    /// PostgreSQL beside one on SQLite.
    static func cluster(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        try await scenario(context) { tracker in
            let timeoutMs = options.clusterNodeTimeoutMs
            var result = makeResult(
                "cluster",
                [
                    "nodes": 3, "nodeTimeoutMs": Double(timeoutMs), "apiClients": Double(options.apiClients),
                    "sdkClients": Double(options.clusterClients), "kickSamples": Double(options.clusterKicks),
                    "heartbeatConnections": Double(options.clusterHeartbeatConnections),
                ])
            let postgres = try await context.clusterDatabase(options.postgresURL)
            let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let key = "tk_bench_cluster_\(run)"
            func node(_ id: String) async throws -> BenchServer {
                let node = tracker.track(
                    try await BenchServer.start(
                        executable: context.executable, directory: context.directory, dataPath: postgres, apiKey: key,
                        apiPort: BenchServer.freePort(), clientPort: BenchServer.freePort(), waitForListening: false,
                        extraArguments: ["--node-id", "b\(run)-\(id)", "--node-timeout-ms", "\(timeoutMs)"]))
                _ = try await waitUntilReady(context, port: node.apiPort, timeout: 60)
                return node
            }
            var nodes: [BenchServer] = []
            for i in 0..<3 { nodes.append(try await node("\(i)")) }
            let urls = nodes.map { URL(string: "http://127.0.0.1:\($0.apiPort)")! }
            let ownerId = try await Self.owner(urls, key: key)
            guard let owner = (0..<3).first(where: { ownerId == "b\(run)-\($0)" }) else {
                throw BenchError("the owner \(ownerId) is none of this run's nodes")
            }
            let followers = (0..<3).filter { $0 != owner }

            // 1. API cycles spread over the three nodes (two of them forward to the owner).
            let api = try await clusterAPI(context, tracker, nodes, options, project: "api-\(run)")
            result.figures.merge(api.figures) { $1 }
            result.serverCPU = api.serverCPU
            result.loadCPU = api.loadCPU
            result.windowSeconds = api.seconds

            // 2. A kick across nodes.
            let viaFollower = TetherBackend(urls: [urls[followers[0]]], apiKey: key)
            let kicks = try await kickAcrossNodes(viaFollower, samples: options.clusterKicks, project: "kick-\(run)")
            result.figures["kickCount"] = Double(kicks.count)
            result.figures["kickP50Ms"] = percentile(kicks, 0.5)
            result.figures["kickP99Ms"] = percentile(kicks, 0.99)

            // 3. The owner killed under SDK clients.
            let killed = try await killOwner(
                nodes[owner], clients: options.clusterClients, project: "kill-\(run)", timeoutMs: timeoutMs,
                backend: TetherBackend(urls: followers.map { urls[$0] }, apiKey: key),
                reader: urls[followers[0]], readerAlternates: [urls[followers[1]]], key: key, notes: &result.notes)
            result.figures.merge(killed) { $1 }

            // 4. Heartbeats of one node on PostgreSQL beside one on SQLite (the cluster stopped first).
            for node in nodes where node.child.process.isRunning { await node.stop() }
            let onPostgres = try await node("hb")
            // Ready answers as soon as it serves as a follower: wait until it owns the cluster (its clients would
            // be sent away otherwise).
            _ = try await Self.owner(
                [URL(string: "http://127.0.0.1:\(onPostgres.apiPort)")!], key: key, being: "b\(run)-hb")
            let n = options.clusterHeartbeatConnections
            let pg = try await hammer(context, tracker, onPostgres, options, connections: n, projectId: "hb-\(run)")
            // What bounds the API: the same cycles on this one node (no forwarding), then on SQLite.
            let commits0 = try await commitTotals(context, onPostgres)
            let alone = try await clusterAPI(context, tracker, [onPostgres], options, project: "api1-\(run)")
            let commits1 = try await commitTotals(context, onPostgres)
            result.figures["oneNodeOpsPerSecond"] = alone.figures["opsPerSecond"] ?? 0
            result.figures["oneNodeP99Ms"] = alone.figures["p99Ms"] ?? 0
            let transactions = max(1, commits1.count - commits0.count)
            result.figures["oneNodeCommitMs"] = (commits1.seconds - commits0.seconds) / transactions * 1_000
            result.figures["oneNodeBatchesPerCommit"] = (commits1.batches - commits0.batches) / transactions
            if let ops = alone.figures["opsPerSecond"], ops > 0 {
                result.figures["oneNodeServerCpuUsPerOp"] = alone.serverCPU.total / (ops * alone.seconds) * 1e6
            }
            await onPostgres.stop()
            let onSQLite = tracker.track(try await context.startServer())
            let lite = try await hammer(context, tracker, onSQLite, options, connections: n, projectId: "hb-\(run)")
            let liteAPI = try await clusterAPI(context, tracker, [onSQLite], options, project: "api1-\(run)")
            result.figures["sqliteOpsPerSecond"] = liteAPI.figures["opsPerSecond"] ?? 0
            result.figures["sqliteP99Ms"] = liteAPI.figures["p99Ms"] ?? 0
            result.figures["postgresHeartbeatsPerSecond"] = pg.figures["ackedPerSecond"] ?? 0
            result.figures["postgresFalseExpiries"] = pg.figures["kicks"] ?? 0
            result.figures["sqliteHeartbeatsPerSecond"] = lite.figures["ackedPerSecond"] ?? 0
            result.figures["sqliteFalseExpiries"] = lite.figures["kicks"] ?? 0
            for (store, kicks) in [("PostgreSQL", pg.kicks), ("SQLite", lite.kicks)] where !kicks.isEmpty {
                result.notes.append("kicks of the heartbeat clients on \(store): \(kicks.sorted { $0.key < $1.key })")
            }

            result.goal("disconnectedP99Ms", "<=", Double(timeoutMs + 1_000))
            result.goal("reconnectedP99Ms", "<=", Double(timeoutMs + 3_000))
            result.goal("sameConcurrencyPercent", ">=", 100)
            result.goal("kickP99Ms", "<=", 50)
            result.goal("opsPerSecond", ">=", 2_000)
            result.goal("p99Ms", "<=", 50)
            result.goal("postgresFalseExpiries", "<=", 0)
            result.notes.append(
                "ops: apply, create and destroy from \(options.apiClients) API clients, a third on each node;"
                    + " disconnected/reconnected: from the SIGKILL of the owner")
            return result
        }
    }

    /// The id of the node that owns the cluster (`expected`, when given), once one does.
    static func owner(_ urls: [URL], key: String, being expected: String? = nil) async throws -> String {
        struct Nodes: Decodable {
            struct Node: Decodable {
                var nodeId: String
                var owner: Bool
                var state: String
            }
            var nodes: [Node]
        }
        let backend = TetherBackend(urls: urls, apiKey: key)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let data = try? await backend.data(for: BackendRequest<Nodes>(method: "GET", path: "/v1/nodes")),
                let list = try? JSONDecoder().decode(Nodes.self, from: data),
                let owner = list.nodes.first(where: { $0.owner && $0.state == "alive" }),
                expected == nil || owner.nodeId == expected
            {
                return owner.nodeId
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("no node of the cluster took the lease within 30 s")
    }

    /// `apiClients` API clients, a third on each node, in the `api` scenario's cycle.
    static func clusterAPI(
        _ context: BenchContext, _ tracker: Tracker, _ nodes: [BenchServer], _ options: BenchOptions, project: String
    ) async throws -> HammerFigures {
        let n = options.apiClients
        try await context.createProject(nodes[0], id: project, capacity: n + 10, intervalMs: 5_000, timeoutMs: 15_000)
        var config = context.workerConfig(
            .api, projectId: project, userPrefix: "u-", transport: "ws", intervalMs: 5_000, timeoutMs: 15_000)
        config.warmupMs = options.apiWarmupMs
        config.windowMs = Int64(options.apiSeconds * 1_000)
        var workers: [BenchWorkerHandle] = []
        let share = (n + nodes.count - 1) / nodes.count
        for (i, node) in nodes.enumerated() {
            var part = config
            part.firstIndex = i * share
            let count = min(share, n - i * share)
            guard count > 0 else { continue }
            workers += tracker.track(try await context.spawnWorkers(node, part, total: count, perWorker: count))
        }
        let startMs = BenchProc.wallMs() + 500
        let windowStart = startMs + Double(config.warmupMs)
        context.start(workers, at: startMs)
        await context.sleep(until: windowStart)
        let cpu0 = nodes.reduce(CPUTime.zero) { $0 + $1.cpu }
        await context.sleep(until: windowStart + Double(config.windowMs))
        let cpu1 = nodes.reduce(CPUTime.zero) { $0 + $1.cpu }
        let results = try await context.results(workers)
        let ops = results.reduce(0) { $0 + $1.windowCount }
        var out = HammerFigures(
            figures: [:], serverCPU: cpu1 - cpu0, loadCPU: loadCPU(results), seconds: options.apiSeconds)
        out.figures["opsPerSecond"] = Double(ops) / options.apiSeconds
        let latencies = results.compactMap(\.latencyMs)
        if !latencies.isEmpty {
            out.figures["p50Ms"] = latencies.map(\.p50).reduce(0, +) / Double(latencies.count)
            out.figures["p99Ms"] = latencies.map(\.p99).max()
        }
        out.figures["apiErrors"] = Double(results.reduce(0) { $0 + $1.errors.values.reduce(0, +) })
        return out
    }

    /// Milliseconds from a DestroySession sent to a follower until the client, connected to the owner, has its
    /// `destroyed` kick; one session at a time, `samples` times.
    static func kickAcrossNodes(_ backend: TetherBackend, samples: Int, project: String) async throws -> [Double] {
        _ = try await backend.createProject(id: project, policy: .init(capacity: 2))
        var out: [Double] = []
        for i in 0..<samples {
            _ = try await backend.apply(project: project, userId: "k\(i)")
            let created = try await backend.createSession(project: project, userId: "k\(i)")
            let client = try TetherClient(session: created)
            _ = try await client.connect()
            let start = ContinuousClock.now
            _ = try await backend.destroySession(created.sessionId)
            let reason = await client.ended()
            if reason == .destroyed { out.append(KillClock.milliseconds(ContinuousClock.now - start)) }
        }
        return out
    }

    /// Kills `owner` with SIGKILL under `clients` SDK clients (WebSocket and TCP, the SDK's default rules) and
    /// times, from the kill, each session's `session.disconnected` at an SSE reader and each client's next
    /// welcome.
    static func killOwner(
        _ owner: BenchServer, clients count: Int, project: String, timeoutMs: Int64, backend: TetherBackend,
        reader: URL, readerAlternates: [URL], key: String, notes: inout [String]
    ) async throws -> [String: Double] {
        _ = try await backend.createProject(
            id: project,
            policy: .init(
                capacity: count + 10, heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 5_000, reconnectGraceMs: 60_000)
        )
        let clock = KillClock()
        var clients: [(TetherClient, SessionInfo, Task<SessionInfo?, Never>)] = []
        for i in 0..<count {
            _ = try await backend.apply(project: project, userId: "c\(i)")
            let created = try await backend.createSession(project: project, userId: "c\(i)")
            let client = try TetherClient(session: created, transport: i % 2 == 0 ? .websocket : .tcp)
            let first = try await client.connect()
            // The next welcome: its time from the kill, and its session.
            let back = Task { () -> SessionInfo? in
                for await state in client.states {
                    clock.note(created.sessionId, state)
                    if case .connected(let info) = state, info.epoch > first.epoch {
                        clock.back(info.sessionId)
                        return info
                    }
                    if case .ended = state { return nil }
                }
                return nil
            }
            clients.append((client, first, back))
        }
        let sessions = Set(clients.map(\.1.sessionId))
        var feed = TetherEventStream(url: reader, apiKey: key, project: project)
        feed.alternates = readerAlternates
        feed.backoff = Backoff(base: .milliseconds(50), cap: .milliseconds(500))
        let watcher = Task {
            struct Event: Decodable {
                var type: String
                var sessionId: String?
            }
            // From the project's first event: no session of it was disconnected before the kill.
            for try await message in feed.follow(after: 0) {
                clock.read()
                guard let event = try? JSONDecoder().decode(Event.self, from: Data(message.data.utf8)) else { continue }
                if event.type == "session.disconnected", let id = event.sessionId, sessions.contains(id) {
                    clock.disconnected(id)
                }
            }
        }
        // Their welcomes, which name the other nodes, have all arrived (connect() returned): kill.
        clock.kill()
        await owner.kill9()
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs) + .seconds(30)
        while ContinuousClock.now < deadline && (clock.disconnectedCount < count || clock.backCount < count) {
            try await Task.sleep(for: .milliseconds(50))
        }
        watcher.cancel()
        var same = 0
        for (client, first, back) in clients {
            back.cancel()
            if let again = await back.value, again.concurrencyId == first.concurrencyId { same += 1 }
            await client.close()
        }
        let (disconnected, returned) = clock.times
        notes.append("the slowest client after the kill: " + clock.slowestPath.joined(separator: "; "))
        return [
            "disconnectedPercent": Double(disconnected.count) / Double(max(count, 1)) * 100,
            "disconnectedP50Ms": percentile(disconnected, 0.5), "disconnectedP99Ms": percentile(disconnected, 0.99),
            "reconnectedPercent": Double(returned.count) / Double(max(count, 1)) * 100,
            "reconnectedP50Ms": percentile(returned, 0.5), "reconnectedP99Ms": percentile(returned, 0.99),
            "sameConcurrencyPercent": Double(same) / Double(max(count, 1)) * 100,
            "readerEvents": Double(clock.eventsRead),
        ]
    }

    /// The group commit's totals from `/metrics`: transactions, their seconds, and the batches they carried.
    static func commitTotals(_ context: BenchContext, _ server: BenchServer) async throws -> (
        count: Double, seconds: Double, batches: Double
    ) {
        (
            try await metric(context, server, "tether_store_commit_seconds_count") ?? 0,
            try await metric(context, server, "tether_store_commit_seconds_sum") ?? 0,
            try await metric(context, server, "tether_store_commit_batch_size_sum") ?? 0
        )
    }

    /// The `q` quantile of `values` (nearest rank); 0 when there is none.
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * q).rounded(.up)) - 1))]
    }
}

/// Times from the kill of the owner: when each session's disconnection reached the reader, and when each
/// client was welcomed again.
final class KillClock: Sendable {
    private struct State {
        var killedAt: ContinuousClock.Instant?
        var disconnected: [String: Double] = [:]
        var back: [String: Double] = [:]
        var read = 0
        var paths: [String: [String]] = [:]
    }
    private let state = Mutex(State())

    func kill() { state.withLock { $0.killedAt = .now } }

    /// A client's state after the kill, for the slowest client's path.
    func note(_ id: String, _ new: TetherClientState) {
        state.withLock { s in
            guard let ms = Self.since(s.killedAt) else { return }
            s.paths[id, default: []].append("\(Int(ms)) ms \(new)")
        }
    }

    /// The states the slowest client went through after the kill.
    var slowestPath: [String] {
        state.withLock { s in
            guard let slowest = s.back.max(by: { $0.value < $1.value })?.key else { return [] }
            return s.paths[slowest] ?? []
        }
    }

    /// An event reached the reader.
    func read() { state.withLock { $0.read += 1 } }
    var eventsRead: Int { state.withLock { $0.read } }

    /// A duration in (fractional) milliseconds.
    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1_000 + Double(d.components.attoseconds) / 1e15
    }

    private static func since(_ start: ContinuousClock.Instant?) -> Double? {
        start.map { milliseconds(ContinuousClock.now - $0) }
    }

    func disconnected(_ id: String) {
        state.withLock { s in
            if s.disconnected[id] == nil, let ms = Self.since(s.killedAt) { s.disconnected[id] = ms }
        }
    }

    func back(_ id: String) {
        state.withLock { s in
            if s.back[id] == nil, let ms = Self.since(s.killedAt) { s.back[id] = ms }
        }
    }

    var disconnectedCount: Int { state.withLock { $0.disconnected.count } }
    var backCount: Int { state.withLock { $0.back.count } }
    var times: (disconnected: [Double], back: [Double]) {
        state.withLock { (Array($0.disconnected.values), Array($0.back.values)) }
    }
}
