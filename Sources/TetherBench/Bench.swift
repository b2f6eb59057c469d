import Foundation

/// The scenarios of `tether bench`.
public enum BenchScenario: String, CaseIterable, Sendable {
    case expirySteady = "expiry-steady"
    case expiryBurst = "expiry-burst"
    case heartbeats
    case hold
    case memory
    case release
    case api
    case restart
    case storm
    case stormTerm = "storm-term"
    case cluster
    case queue
    case liveness

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
        case .storm: try await BenchScenarios.storm(context, options, graceful: false)
        case .stormTerm: try await BenchScenarios.storm(context, options, graceful: true)
        case .cluster: try await BenchScenarios.cluster(context, options)
        case .queue: try await BenchScenarios.queue(context, options)
        case .liveness: try await BenchScenarios.liveness(context, options)
        }
    }
}

/// The sizes and settings of a run (the command line's flags; docs/PERFORMANCE.md explains each).
public struct BenchOptions: Sendable {
    public var transport = "ws"
    /// Serve TLS (a certificate the run makes) and load over `wss://`, `tls://` and `https://`.
    public var tls = false
    public var clientsPerWorker = 5_000
    /// liveness: healthy and silent clients per disturbance, the silent ones' rate, the reconnect burst, and
    /// which disturbances (none given: each, then all together).
    public var livenessHealthy = 1_000
    public var livenessSilent = 1_000
    public var livenessSilentRate = 250.0
    public var livenessBurst = 5_000
    public var livenessDisturbances: [String] = []
    public var expirySessions = 10_000
    public var expiryRate = 5_000.0
    public var burstSessions = 10_000
    public var healthy = 1_000
    public var intervalMs: Int64 = 1_000
    public var timeoutMs: Int64 = 3_000
    public var heartbeatConnections = 10_000
    public var heartbeatSeconds = 10.0
    public var heartbeatWarmupMs: Int64 = 3_000
    public var heartbeatWorkers = 2
    public var perConnectionRate = 40.0
    public var holdSessions = 19_000
    public var holdSeconds = 600.0
    public var memorySessions = 10_000
    public var releaseCount = 1_000
    public var releaseRate = 100.0
    public var apiClients = 64
    public var apiSeconds = 10.0
    public var apiWarmupMs: Int64 = 2_000
    public var apiWorkers = 2
    public var restartSessions = 10_000
    public var stormClients = 19_000
    public var stormProcesses = 4
    public var stormIntervalMs: Int64 = 5_000
    public var stormSeconds = 40.0
    public var stormLoadNice: Int32 = 19
    /// `lean` (the bench's own workers) or `sim` (`tether sim` processes, the Swift SDK's clients).
    public var stormLoad = "lean"
    /// cluster: the PostgreSQL database the nodes share (nil: `TETHER_BENCH_POSTGRES_URL`, else one started
    /// with scripts/postgres.sh from the working directory).
    public var postgresURL: String?
    public var clusterNodeTimeoutMs: Int64 = 2_000
    public var clusterClients = 300
    public var clusterKicks = 50
    public var clusterHeartbeatConnections = 10_000
    /// queue: the tickets waiting for the larger measure of the core's costs (the smaller is 1 000).
    public var queueTickets = 10_000
    /// queue: the offers timed end to end.
    public var queueOffers = 50
    /// queue: the live queued clients whose places are pushed (0: not measured).
    public var queuePushClients = 10_000
    /// queue: how long their places are pushed while heartbeat lateness is measured (s).
    public var queuePushSeconds = 10.0

    /// The defaults of `tether bench`.
    public init() {}

    /// Tiny sizes: the whole run takes well under a minute.
    public mutating func shrinkForSmoke() {
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
        stormClients = 60
        stormProcesses = 2
        stormIntervalMs = 1_000
        stormSeconds = 12
        clusterClients = 20
        clusterKicks = 5
        clusterHeartbeatConnections = 100
        queueTickets = 2_000
        queueOffers = 5
        queuePushClients = 100
        queuePushSeconds = 3
        livenessHealthy = 20
        livenessSilent = 40
        livenessSilentRate = 100
        livenessBurst = 100
        if livenessDisturbances.isEmpty { livenessDisturbances = ["loss", "stall", "throttled"] }
    }
}
