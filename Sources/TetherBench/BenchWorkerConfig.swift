/// What one load process (`tether bench-worker`) is told to do, as JSON on its command line.
struct WorkerConfig: Codable, Sendable {
    /// What the clients do once started.
    enum Role: String, Codable, Sendable {
        /// Heartbeat until a last ping at a scheduled time, then stay silent (answer nothing).
        case expire
        /// Heartbeat every `intervalMs` and answer server pings, until told to stop.
        case heartbeat
        /// Answer server pings only, until told to stop.
        case idle
        /// Closed-loop pings as fast as the server answers, each connection at most `perConnectionRate`/s.
        case hammer
        /// Heartbeat, then say `bye` one client after the other; an event-stream reader times each release.
        case release
        /// Backend API clients looping apply → create → destroy.
        case api
        /// Queued clients: each applies with `queue: true` on a full pool, waits live with its queue token
        /// (answering server pings) and counts the places pushed to it, until told to stop.
        case queued
        /// Heartbeat (WebSocket, TCP, or HTTP with transport `http`) and come back whenever the server goes
        /// away, by the SDKs' reconnect rules (resume token, backoff, `retryAfterMs`), until told to stop.
        case storm
    }

    var role: Role
    /// Backend API port.
    var apiPort: Int
    /// Client plane port (WebSocket).
    var clientPort: Int
    /// TCP frame port.
    var tcpPort: Int
    /// The backend API key.
    var apiKey: String
    /// The project.
    var projectId: String
    /// Users are `<userPrefix><index>` for index in `firstIndex ..< firstIndex + count`.
    var userPrefix: String
    /// This worker's first user index.
    var firstIndex: Int
    /// How many clients (or API connections for `api`).
    var count: Int
    /// Source address to bind (127.0.0.2 upward), so each worker has its own ephemeral ports.
    var sourceIP: String
    /// `ws` or `tcp` (or `http` for `storm`: HTTP heartbeats).
    var transport: String
    /// Heartbeat interval of `heartbeat`, `expire` and `release` clients.
    var intervalMs: Int64
    /// The project's heartbeat timeout (for the schedule of `expire`).
    var timeoutMs: Int64
    /// `expire`: index `i` (global, `firstIndex`-based) sends its last ping at start + i × 1000 / rate
    /// (0 = all at start).
    var expireRate: Double = 0
    /// `hammer`: the most pings per second per connection (the server allows 50/s).
    var perConnectionRate: Double = 40
    /// `hammer`, `api`: warm-up after start before the measured window.
    var warmupMs: Int64 = 1_000
    /// `hammer`, `api`: the measured window.
    var windowMs: Int64 = 5_000
    /// `release`: byes per second.
    var releaseRate: Double = 100
    /// Concurrent connects while setting up.
    var connectConcurrency: Int = 128
    /// Concurrent API connections while creating sessions.
    var setupConnections: Int = 16
    /// Where to write the ``WorkerResult`` JSON.
    var resultPath: String
    /// With `--tls`: the certificate to trust; every connection of the worker speaks TLS.
    var caFile: String?
    /// `liveness` disturbances of the heartbeats (`heartbeat` and `expire` roles, before the last ping): the
    /// share of heartbeats not sent, and a random delay of up to this much before each one sent.
    var dropRate: Double = 0
    var jitterMs: Int64 = 0
    /// The process's niceness (0: as started), so that the load yields the CPU to the server.
    var nice: Int32 = 0
}

/// What a load process reports.
struct WorkerResult: Codable, Sendable {
    /// One client of an `expire`, `heartbeat`, `idle` or `release` worker.
    struct Client: Codable, Sendable {
        var sessionId: String
        /// Wall ms when the client sent its last ping (`expire`).
        var lastSendMs: Double?
        /// The server clock (`st`) in the pong of the last ping (`expire`).
        var lastPongSt: Int64?
        /// Wall ms when a kick arrived.
        var kickMs: Double?
        /// The kick's reason.
        var kickReason: String?
        /// Wall ms when the connection closed.
        var closedMs: Double?
    }

    var role: WorkerConfig.Role
    /// Clients that got their `welcome`.
    var welcomed: Int
    /// Clients that failed to connect or were refused.
    var failed: Int
    /// Per-client records (`expire`, `heartbeat`, `idle`).
    var clients: [Client] = []
    /// Pongs (or API replies) counted in the measured window.
    var windowCount: Int = 0
    /// Kicks received, by reason.
    var kicks: [String: Int] = [:]
    /// Round-trip (or request) latencies in ms, summarised.
    var latencyMs: LatencySummary?
    /// Per request kind, for `api`.
    var latencyByKindMs: [String: LatencySummary] = [:]
    /// API replies that were not 2xx, by status.
    var errors: [String: Int] = [:]
    /// This process's CPU time in the measured window.
    var windowCPU: CPUTime = .zero
    /// This process's CPU time overall.
    var totalCPU: CPUTime = .zero
    /// `release`: how the reader got the events (`sse` or `poll`).
    var eventMode: String?
    /// `release`: byes whose release event never came.
    var missing: Int = 0
    /// `queued`: places (and offers) pushed after the first message, from `start` to `stop`.
    var pushes: Int = 0
    /// `queued`: clients that got at least one push then.
    var pushedClients: Int = 0
    /// `queued`: the shortest time between two messages to one client (ms), over all clients.
    var minPushGapMs: Double?
    /// `storm`: attempts to come back (connects, or HTTP heartbeats retried), clients that came back after
    /// losing their server, and clients still away at `stop`.
    var stormReconnects: Int = 0
    var stormBack: Int = 0
    var stormNotBack: Int = 0
    /// `storm`: WebSocket and TCP clients whose reconnect plan ended (the SDK would have given up).
    var stormGaveUp: Int = 0
}
