import Foundation
import NIOCore
import Synchronization
import TetherClient
import TetherSim

extension BenchScenarios {
    /// `storm` (SIGKILL) and `storm-term` (SIGTERM, graceful): clients (WebSocket, TCP and HTTP heartbeats, a
    /// third each, in several processes) heartbeat against a server that is stopped once all are connected and
    /// restarted at once on the same data file and ports. The load is the bench's own lean workers (role
    /// `storm`: bytes by hand on one event loop per process, the SDKs' reconnect rules) or, with
    /// `--storm-load sim`, `tether sim` processes (the Swift SDK's clients). Figures: the time to ready, the
    /// share of the clients that came back, p50/p99/max of their return after the restart (from the restarted
    /// server's event feed), sessions lost, hellos told `busy`, and both sides' CPU until everyone was back.
    static func storm(_ context: BenchContext, _ options: BenchOptions, graceful: Bool) async throws
        -> ScenarioResult
    {
        try await scenario(context) { tracker in
            let n = options.stormClients
            let name = graceful ? "storm-term" : "storm"
            let lean = options.stormLoad != "sim"
            var result = makeResult(
                name,
                [
                    "clients": Double(n), "processes": Double(options.stormProcesses),
                    "intervalMs": Double(options.stormIntervalMs),
                ])
            let first = tracker.track(
                try await BenchServer.start(
                    executable: context.executable, directory: context.directory,
                    dataPath: "\(context.directory)/\(name).sqlite", apiKey: "tk_bench_storm",
                    apiPort: BenchServer.freePort(), clientPort: BenchServer.freePort(),
                    extraArguments: context.tlsArguments))
            let simEnded = SimEnded()
            var simRun: Task<SimOutcome, any Error>?
            var workers: [BenchWorkerHandle] = []
            if lean {
                try await context.createProject(
                    first, id: "storm", capacity: n, intervalMs: options.stormIntervalMs,
                    timeoutMs: options.stormIntervalMs * 3, reconnectGraceMs: 60_000)
                workers = tracker.track(try await stormWorkers(context, first, options))
                context.start(workers, at: BenchProc.wallMs())
            } else {
                var backend = try context.backend(port: first.apiPort, apiKey: first.apiKey)
                backend.timeout = .seconds(60)
                let sim = simOptions(context, options)
                simRun = Task {
                    defer { simEnded.set() }
                    return try await SimRunner.outcome(sim, backend: backend)
                }
            }

            // Every client connected, for a moment.
            let connected = try await waitForConnected(context, first, n, until: simEnded, within: 600)
            guard connected else { throw BenchError("the clients did not all connect (see the load's logs)") }
            try await Task.sleep(for: .seconds(2))
            let loadCPUAtStop = lean ? context.workersCPU(workers) : .zero
            let stopMs = BenchProc.wallMs()
            if graceful { await first.stop() } else { await first.kill9() }
            let restartMs = BenchProc.wallMs()
            let second = tracker.track(
                try await BenchServer.start(
                    executable: context.executable, directory: context.directory, dataPath: first.dataPath,
                    apiKey: first.apiKey, apiPort: first.apiPort, clientPort: first.clientPort, tcpPort: first.tcpPort,
                    waitForListening: false, extraArguments: context.tlsArguments))
            let cpuAtStart = second.cpu
            let readyNs = try await waitUntilReady(context, port: first.apiPort, timeout: 120)
            // The server's own view: everyone connected again (or the sim ended).
            _ = try await waitForConnected(context, second, n, until: simEnded, within: options.stormSeconds + 60)
            let cpuBack = second.cpu - cpuAtStart
            let loadCPUBack = lean ? context.workersCPU(workers) - loadCPUAtStop : .zero
            let backWindowMs = BenchProc.wallMs() - restartMs
            let deferred = try await metric(context, second, "tether_hellos_deferred_total")

            // The server's account: every session the stop disconnected (cause `shutdown`), and when its client
            // was back (its next `session.reconnected`), from the restarted server's event feed.
            let (returns, affected, byTransport) = try await returnsAfterRestart(
                context, second, stoppedAtMs: stopMs, restartedAtMs: restartMs)
            let open = affected - returns.count
            let sorted = returns.sorted()
            func at(_ q: Double) -> Double {
                sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)]
            }
            result.windowSeconds = backWindowMs / 1_000
            result.serverCPU = cpuBack
            result.figures["readyMs"] = Double(readyNs - second.spawnedNs) / 1e6
            result.figures["clientsAffected"] = Double(affected)
            result.figures["backPercent"] = affected == 0 ? 0 : Double(returns.count) / Double(affected) * 100
            result.figures["returnP50Ms"] = at(0.5)
            result.figures["returnP99Ms"] = at(0.99)
            result.figures["returnMaxMs"] = sorted.last ?? 0
            // Per transport: an HTTP-heartbeat client learns of the crash only at its next heartbeat.
            for (transport, values) in byTransport {
                let sorted = values.sorted()
                let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
                result.figures["returnP99Ms.\(transport)"] = p99
                result.figures["returnMaxMs.\(transport)"] = sorted.last ?? 0
            }
            result.figures["sessionsLost"] = Double(open)
            result.figures["hellosDeferred"] = deferred ?? -1
            result.figures["serverCpuSecondsUntilBack"] = cpuBack.total
            if lean {
                context.stop(workers)
                let outcomes = try await context.results(workers)
                result.loadCPU = loadCPUBack
                result.figures["loadCpuSecondsUntilBack"] = loadCPUBack.total
                result.figures["clientsConnected"] = Double(outcomes.reduce(0) { $0 + $1.welcomed })
                result.figures["clientsBack"] = Double(outcomes.reduce(0) { $0 + $1.stormBack })
                result.figures["clientsNotBack"] = Double(outcomes.reduce(0) { $0 + $1.stormNotBack })
                result.figures["clientsGaveUp"] = Double(outcomes.reduce(0) { $0 + $1.stormGaveUp })
                result.figures["clientAttempts"] = Double(outcomes.reduce(0) { $0 + $1.stormReconnects })
                var kicks: [String: Int] = [:]
                for outcome in outcomes { kicks.merge(outcome.kicks, uniquingKeysWith: +) }
                result.notes = kicks.sorted { $0.key < $1.key }.map { "kicks \($0.key): \($0.value)" }
            } else if let simRun {
                let outcome = try await simRun.value
                // The clients' account: outages they saw (WebSocket and TCP drops, failed HTTP heartbeats).
                var outages: [Double] = []
                for (i, start) in outcome.outageStartMs.enumerated() where start >= stopMs - 1_000 {
                    outages.append(outcome.outageEndMs[i] - start)
                }
                let clientOutageP99 =
                    outages.sorted().dropFirst(max(0, Int(Double(outages.count) * 0.99) - 1)).first ?? 0
                result.figures["clientsConnected"] = Double(outcome.connected)
                result.figures["unfinishedClients"] = Double(outcome.unfinished)
                result.figures["simErrors"] = Double(outcome.errors)
                result.figures["clientOutages"] = Double(outages.count)
                result.figures["clientOutagesNotOver"] = Double(
                    outcome.outagesOpen.filter { $0 >= stopMs - 1_000 }.count)
                result.figures["clientOutageP99Ms"] = clientOutageP99
                result.notes = Array(outcome.notes.prefix(5))
            }
            result.goal("backPercent", ">=", 100)
            result.goal("returnP99Ms", "<=", 5_000)
            result.goal("sessionsLost", "<=", 0)
            return result
        }
    }

    /// The storm's lean load: `storm` workers, a third of the clients per transport, about
    /// `stormClients / stormProcesses` per process, at the load's niceness.
    static func stormWorkers(_ context: BenchContext, _ server: BenchServer, _ options: BenchOptions) async throws
        -> [BenchWorkerHandle]
    {
        let n = options.stormClients
        let perWorker = max(1, (n + options.stormProcesses - 1) / max(1, options.stormProcesses))
        var workers: [BenchWorkerHandle] = []
        var firstIndex = 0
        for (k, transport) in ["ws", "tcp", "http"].enumerated() {
            let count = n / 3 + (k < n % 3 ? 1 : 0)
            guard count > 0 else { continue }
            var config = context.workerConfig(
                .storm, projectId: "storm", userPrefix: "storm-", transport: transport,
                intervalMs: options.stormIntervalMs, timeoutMs: options.stormIntervalMs * 3)
            config.firstIndex = firstIndex
            config.nice = options.stormLoadNice
            config.connectConcurrency = 64
            workers += try await context.spawnWorkers(server, config, total: count, perWorker: perWorker)
            firstIndex += count
        }
        return workers
    }

    /// The storm's load as `tether sim` processes.
    static func simOptions(_ context: BenchContext, _ options: BenchOptions) -> SimOptions {
        var sim = SimOptions()
        sim.caFile = context.tls?.certificatePath
        sim.project = "storm"
        sim.clients = options.stormClients
        sim.transport = "mix"
        sim.processes = options.stormProcesses
        sim.intervalMs = options.stormIntervalMs
        sim.timeoutMs = options.stormIntervalMs * 3
        sim.graceMs = 60_000
        sim.duration = options.stormSeconds
        sim.drain = 20
        sim.rampConcurrency = 64
        // The load shares the machine with the server: it runs at a lower priority, so that what is
        // measured is how fast the server brings everyone back, not who wins the CPU (docs/PERFORMANCE.md).
        sim.workerNice = options.stormLoadNice
        return sim
    }

    /// Polls DescribeConcurrentCount until `n` sessions are connected; `false` when the sim ended or the time
    /// ran out first. A server that does not answer yet (restarting) is polled again.
    static func waitForConnected(
        _ context: BenchContext, _ server: BenchServer, _ n: Int, until ended: SimEnded, within seconds: Double
    ) async throws -> Bool {
        let deadline = BenchProc.monotonicNs() + UInt64(seconds * 1e9)
        while BenchProc.monotonicNs() < deadline && !ended.value {
            if let count = try? await context.concurrency(server, projectId: "storm"), (count["connected"] ?? 0) >= n {
                return true
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    /// From the event feed: for each session disconnected with cause `shutdown` after `stoppedAtMs`, the time
    /// from `restartedAtMs` to its next `session.reconnected`; and how many sessions were disconnected.
    static func returnsAfterRestart(
        _ context: BenchContext, _ server: BenchServer, stoppedAtMs: Double, restartedAtMs: Double
    ) async throws -> (returns: [Double], affected: Int, byTransport: [String: [Double]]) {
        struct Page: Decodable {
            struct Event: Decodable {
                struct Data: Decodable {
                    var cause: String?
                    var transport: String?
                }
                var at: Double
                var type: String
                var sessionId: String?
                var data: Data
            }
            var events: [Event]
            var nextCursor: UInt64
        }
        var disconnected = Set<String>()
        var back: [String: Double] = [:]
        var byTransport: [String: [Double]] = [:]
        var after: UInt64 = 0
        let conn = try await context.api(server)
        defer { conn.close() }
        while true {
            let reply = try await conn.request("GET", "/v1/events?projectId=storm&limit=1000&after=\(after)").get()
            guard reply.status == 200 else { throw BenchError("events: \(reply.status) \(reply.text)") }
            let page = try JSONDecoder().decode(Page.self, from: Data(reply.body))
            if page.events.isEmpty { break }
            after = page.nextCursor
            for event in page.events where event.at >= stoppedAtMs {
                guard let id = event.sessionId else { continue }
                if event.type == "session.disconnected", event.data.cause == "shutdown" {
                    disconnected.insert(id)
                } else if event.type == "session.reconnected", disconnected.contains(id), back[id] == nil {
                    back[id] = event.at - restartedAtMs
                    byTransport[event.data.transport ?? "?", default: []].append(event.at - restartedAtMs)
                }
            }
        }
        return (Array(back.values), disconnected.count, byTransport)
    }

    /// One unlabelled counter's value from `/metrics`.
    static func metric(_ context: BenchContext, _ server: BenchServer, _ name: String) async throws -> Double? {
        let conn = try await context.api(server)
        defer { conn.close() }
        let reply = try await conn.request("GET", "/metrics").get()
        for line in reply.text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}

/// Whether the sim of a storm has ended.
final class SimEnded: Sendable {
    private let ended = Mutex(false)
    func set() { ended.withLock { $0 = true } }
    var value: Bool { ended.withLock { $0 } }
}
