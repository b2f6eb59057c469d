import ArgumentParser
import TetherBench

/// `tether bench`: the command line of ``BenchRunner`` (TetherBench), which measures Tether against its
/// performance goals. Goals that are missed do not fail the command; only a benchmark that cannot run does.
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
    @Flag(help: "Serve TLS with a certificate the run makes; the load speaks wss://, tls:// and https://.")
    var tls = false
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
    @Option(name: .customLong("storm-clients"), help: "storm, storm-term: simulated clients (a third per transport).")
    var stormClients = 19_000
    @Option(name: .customLong("storm-processes"), help: "storm, storm-term: load processes.") var stormProcesses = 4
    @Option(name: .customLong("storm-interval-ms"), help: "storm, storm-term: heartbeat interval (timeout 3x).")
    var stormIntervalMs: Int64 = 5_000
    @Option(name: .customLong("storm-seconds"), help: "storm, storm-term: the sim's duration.")
    var stormSeconds = 40.0
    @Option(name: .customLong("storm-load-nice"), help: "storm, storm-term: niceness of the load processes.")
    var stormLoadNice: Int32 = 19
    @Option(
        name: .customLong("storm-load"),
        help: "storm, storm-term: lean (the bench's own load processes) or sim (tether sim, the Swift SDK).")
    var stormLoad = "lean"
    @Option(
        help:
            "cluster: the PostgreSQL URL the three nodes share (default: TETHER_BENCH_POSTGRES_URL, else a server started with scripts/postgres.sh)."
    )
    var postgres: String?
    @Option(name: .customLong("cluster-node-timeout-ms"), help: "cluster: the nodes' --node-timeout-ms.")
    var clusterNodeTimeoutMs: Int64 = 2_000
    @Option(name: .customLong("cluster-clients"), help: "cluster: SDK clients on the owner when it is killed.")
    var clusterClients = 300
    @Option(name: .customLong("cluster-kicks"), help: "cluster: kicks across nodes timed.") var clusterKicks = 50
    @Option(
        name: .customLong("cluster-heartbeat-connections"),
        help: "cluster: connections of the heartbeat figures on PostgreSQL and SQLite.")
    var clusterHeartbeatConnections = 10_000
    @Option(name: .customLong("queue-tickets"), help: "queue: tickets waiting for the larger measure of the costs.")
    var queueTickets = 10_000
    @Option(name: .customLong("queue-offers"), help: "queue: offers timed end to end.") var queueOffers = 50
    @Option(
        name: .customLong("queue-push-clients"),
        help: "queue: live queued clients whose places are pushed once a second (0: not measured).")
    var queuePushClients = 10_000
    @Option(name: .customLong("queue-push-seconds"), help: "queue: how long the places are pushed.")
    var queuePushSeconds = 10.0
    @Option(name: .customLong("liveness-healthy"), help: "liveness: healthy clients per disturbance.")
    var livenessHealthy = 1_000
    @Option(name: .customLong("liveness-silent"), help: "liveness: clients that fall silent per disturbance.")
    var livenessSilent = 1_000
    @Option(name: .customLong("liveness-silent-rate"), help: "liveness: silent clients per second.")
    var livenessSilentRate = 250.0
    @Option(name: .customLong("liveness-burst"), help: "liveness: clients of the reconnect burst.")
    var livenessBurst = 5_000
    @Option(
        name: .customLong("liveness-disturbance"),
        help: "liveness: loss, jitter, throttled, stall, cpu, burst or all (repeatable; default each, then all).")
    var livenessDisturbances: [String] = []

    func validate() throws {
        guard ["lean", "sim"].contains(stormLoad) else { throw ValidationError("--storm-load is lean or sim") }
    }

    func run() async throws {
        var options = BenchOptions()
        options.transport = transport
        options.tls = tls
        options.clientsPerWorker = clientsPerWorker
        options.expirySessions = expirySessions
        options.expiryRate = expiryRate
        options.burstSessions = burstSessions
        options.healthy = healthy
        options.intervalMs = intervalMs
        options.timeoutMs = timeoutMs
        options.heartbeatConnections = heartbeatConnections
        options.heartbeatSeconds = heartbeatSeconds
        options.heartbeatWorkers = heartbeatWorkers
        options.perConnectionRate = perConnectionRate
        options.holdSessions = holdSessions
        options.holdSeconds = holdSeconds
        options.memorySessions = memorySessions
        options.releaseCount = releaseCount
        options.releaseRate = releaseRate
        options.apiClients = apiClients
        options.apiSeconds = apiSeconds
        options.apiWorkers = apiWorkers
        options.restartSessions = restartSessions
        options.stormClients = stormClients
        options.stormProcesses = stormProcesses
        options.stormIntervalMs = stormIntervalMs
        options.stormSeconds = stormSeconds
        options.stormLoadNice = stormLoadNice
        options.stormLoad = stormLoad
        options.postgresURL = postgres
        options.clusterNodeTimeoutMs = clusterNodeTimeoutMs
        options.clusterClients = clusterClients
        options.clusterKicks = clusterKicks
        options.clusterHeartbeatConnections = clusterHeartbeatConnections
        options.queueTickets = queueTickets
        options.queueOffers = queueOffers
        options.queuePushClients = queuePushClients
        options.queuePushSeconds = queuePushSeconds
        options.livenessHealthy = livenessHealthy
        options.livenessSilent = livenessSilent
        options.livenessSilentRate = livenessSilentRate
        options.livenessBurst = livenessBurst
        options.livenessDisturbances = livenessDisturbances
        try await BenchRunner.run(
            scenarios + scenarioOptions, options: options, smoke: smoke, jsonOut: jsonOut, keepFiles: keepFiles)
    }
}

extension BenchScenario: ExpressibleByArgument {}
