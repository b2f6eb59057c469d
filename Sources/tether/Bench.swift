import ArgumentParser
import Foundation

/// `tether bench`: runs scenarios against a real `tether serve` it starts itself (this executable, a
/// temporary data file, free ports), with the load from separate `tether bench-worker` processes; prints a
/// table against DESIGN.md's performance goals and writes the figures as JSON. Goals that are missed do
/// not fail the command; only a benchmark that cannot run does. docs/PERFORMANCE.md explains each figure.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Tether against its performance goals (see docs/PERFORMANCE.md).",
        discussion: "Scenarios: \(BenchScenario.allCases.map(\.rawValue).joined(separator: ", ")).")

    @Argument(help: "Scenarios to run (default: all).") var scenarios: [BenchScenario] = []
    @Option(name: .customLong("scenario"), help: "A scenario to run (repeatable; same as the argument).")
    var scenarioOptions: [BenchScenario] = []
    @Flag(help: "Run every scenario at a tiny size (a check that the benchmark works; figures mean nothing).")
    var smoke = false
    @Option(name: .customLong("json-out"), help: "Where to write the figures as JSON.")
    var jsonOut = "bench-results.json"
    @Option(help: "Client transport of the load: ws or tcp.") var transport = "ws"
    @Flag(name: .customLong("keep-files"), help: "Keep the temporary directory (data files, logs, worker results).")
    var keepFiles = false
    @Option(name: .customLong("clients-per-worker"), help: "Most clients per load process (fd limit!).")
    var clientsPerWorker = 5_000

    @Option(name: .customLong("expiry-sessions"), help: "expiry-steady: sessions that go silent.")
    var expirySessions = 10_000
    @Option(name: .customLong("expiry-rate"), help: "expiry-steady: expiries per second.") var expiryRate = 5_000.0
    @Option(name: .customLong("burst-sessions"), help: "expiry-burst: sessions that go silent at once.")
    var burstSessions = 10_000
    @Option(name: .customLong("healthy"), help: "expiry-*: healthy heartbeating clients kept meanwhile.")
    var healthy = 1_000
    @Option(name: .customLong("interval-ms"), help: "expiry-*: heartbeat interval.") var intervalMs: Int64 = 1_000
    @Option(name: .customLong("timeout-ms"), help: "expiry-*: heartbeat timeout.") var timeoutMs: Int64 = 3_000
    @Option(name: .customLong("heartbeat-connections"), help: "heartbeats: connections.")
    var heartbeatConnections = 10_000
    @Option(name: .customLong("heartbeat-seconds"), help: "heartbeats: measured seconds.")
    var heartbeatSeconds = 10.0
    @Option(name: .customLong("heartbeat-workers"), help: "heartbeats: load processes.") var heartbeatWorkers = 2
    @Option(name: .customLong("per-connection-rate"), help: "heartbeats: most pings/s per connection (limit 50).")
    var perConnectionRate = 40.0
    @Option(name: .customLong("hold-sessions"), help: "hold: WebSocket sessions.") var holdSessions = 19_000
    @Option(name: .customLong("hold-seconds"), help: "hold: how long.") var holdSeconds = 600.0
    @Option(name: .customLong("memory-sessions"), help: "memory: idle sessions.") var memorySessions = 10_000
    @Option(name: .customLong("release-count"), help: "release: byes timed.") var releaseCount = 1_000
    @Option(name: .customLong("release-rate"), help: "release: byes per second.") var releaseRate = 100.0
    @Option(name: .customLong("api-clients"), help: "api: concurrent API clients.") var apiClients = 64
    @Option(name: .customLong("api-seconds"), help: "api: measured seconds.") var apiSeconds = 10.0
    @Option(name: .customLong("api-workers"), help: "api: load processes.") var apiWorkers = 2
    @Option(name: .customLong("restart-sessions"), help: "restart: sessions before kill -9.")
    var restartSessions = 10_000

    func run() async throws {
        var options = BenchOptions(command: self)
        if smoke { options.shrinkForSmoke() }
        var chosen = scenarios + scenarioOptions
        if chosen.isEmpty { chosen = BenchScenario.allCases }
        let context = try BenchContext()
        context.clientsPerWorker = options.clientsPerWorker
        var build = "release"
        #if DEBUG
            build = "debug"
        #endif
        var report = BenchReport(
            startedAt: Int64(BenchProc.wallMs()), build: build, smoke: smoke, machine: BenchProc.machine(),
            scenarios: [])
        print(
            "tether bench: \(report.machine.cores) cores, \(report.machine.memoryBytes >> 20) MiB, "
                + "\(report.machine.cpuModel); \(build) build\(smoke ? ", smoke sizes" : "")")
        var failures: [String] = []
        for scenario in chosen {
            print("==> \(scenario.rawValue)")
            do {
                let result = try await scenario.run(context, options)
                report.scenarios.append(result)
                BenchTable.print(result)
                try write(report)
            } catch {
                failures.append(scenario.rawValue)
                print("    FAILED: \(error)")
            }
        }
        try write(report)
        await context.cleanUp(keepFiles: keepFiles)
        if keepFiles { print("files kept in \(context.directory)") }
        print("figures written to \(jsonOut)")
        BenchTable.printSummary(report)
        if !failures.isEmpty { throw BenchError("scenarios that could not run: \(failures.joined(separator: ", "))") }
    }

    private func write(_ report: BenchReport) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: jsonOut))
    }
}

/// The scenarios of `tether bench`.
enum BenchScenario: String, CaseIterable, ExpressibleByArgument, Sendable {
    case expirySteady = "expiry-steady"
    case expiryBurst = "expiry-burst"
    case heartbeats
    case hold
    case memory
    case release
    case api
    case restart

    func run(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        switch self {
        case .expirySteady:
            try await BenchScenarios.expiry(
                context, options, name: rawValue, sessions: options.expirySessions,
                rate: options.expiryRate)
        case .expiryBurst:
            try await BenchScenarios.expiry(context, options, name: rawValue, sessions: options.burstSessions, rate: 0)
        case .heartbeats: try await BenchScenarios.heartbeats(context, options)
        case .hold: try await BenchScenarios.hold(context, options)
        case .memory: try await BenchScenarios.memory(context, options)
        case .release: try await BenchScenarios.release(context, options)
        case .api: try await BenchScenarios.api(context, options)
        case .restart: try await BenchScenarios.restart(context, options)
        }
    }
}

/// The sizes and settings of a run.
struct BenchOptions: Sendable {
    var transport = "ws"
    var clientsPerWorker = 5_000
    var expirySessions = 10_000
    var expiryRate = 5_000.0
    var burstSessions = 10_000
    var healthy = 1_000
    var intervalMs: Int64 = 1_000
    var timeoutMs: Int64 = 3_000
    var heartbeatConnections = 10_000
    var heartbeatSeconds = 10.0
    var heartbeatWarmupMs: Int64 = 3_000
    var heartbeatWorkers = 2
    var perConnectionRate = 40.0
    var holdSessions = 19_000
    var holdSeconds = 600.0
    var memorySessions = 10_000
    var releaseCount = 1_000
    var releaseRate = 100.0
    var apiClients = 64
    var apiSeconds = 10.0
    var apiWarmupMs: Int64 = 2_000
    var apiWorkers = 2
    var restartSessions = 10_000

    init() {}

    init(command c: Bench) {
        transport = c.transport
        clientsPerWorker = c.clientsPerWorker
        expirySessions = c.expirySessions
        expiryRate = c.expiryRate
        burstSessions = c.burstSessions
        healthy = c.healthy
        intervalMs = c.intervalMs
        timeoutMs = c.timeoutMs
        heartbeatConnections = c.heartbeatConnections
        heartbeatSeconds = c.heartbeatSeconds
        heartbeatWorkers = c.heartbeatWorkers
        perConnectionRate = c.perConnectionRate
        holdSessions = c.holdSessions
        holdSeconds = c.holdSeconds
        memorySessions = c.memorySessions
        releaseCount = c.releaseCount
        releaseRate = c.releaseRate
        apiClients = c.apiClients
        apiSeconds = c.apiSeconds
        apiWorkers = c.apiWorkers
        restartSessions = c.restartSessions
    }

    /// Tiny sizes: the whole run takes well under a minute.
    mutating func shrinkForSmoke() {
        expirySessions = 200
        expiryRate = 1_000
        burstSessions = 200
        healthy = 20
        intervalMs = 500  // generous: a debug build on a busy machine must not expire healthy clients
        timeoutMs = 2_000
        heartbeatConnections = 100
        heartbeatSeconds = 1
        heartbeatWarmupMs = 300
        holdSessions = 100
        holdSeconds = 1
        memorySessions = 200
        releaseCount = 20
        releaseRate = 100
        apiClients = 8
        apiSeconds = 1
        apiWarmupMs = 300
        restartSessions = 200
    }
}
