/// A project's policy: its pool size and every timing rule of its sessions (API.md "Project policy").
public struct Policy: Sendable, Hashable, Codable {
    /// Heartbeat timing told to clients and enforced by the server.
    public struct Heartbeat: Sendable, Hashable, Codable {
        /// How often clients are told to heartbeat.
        public var intervalMs: Millis
        /// Silence after which a connection is considered lost (at least twice the interval).
        public var timeoutMs: Millis

        /// Creates heartbeat timing.
        public init(intervalMs: Millis = 5_000, timeoutMs: Millis = 15_000) {
            self.intervalMs = intervalMs
            self.timeoutMs = timeoutMs
        }
    }

    /// Number of concurrency slots.
    public var capacity: Int
    /// Heartbeat timing.
    public var heartbeat: Heartbeat
    /// How long the concurrency is held after a loss; 0 repossesses it at once.
    public var reconnectGraceMs: Millis
    /// The apply → create window.
    public var reservationTtlMs: Millis
    /// The create → first client connection window.
    public var connectTimeoutMs: Millis
    /// The longest declared suspension honoured.
    public var maxSuspendMs: Millis
    /// Where events are POSTed, if anywhere.
    public var webhook: Webhook?
    /// The waiting queue for a full pool (off by default).
    public var queue: QueuePolicy
    /// The browser origins whose pages may connect clients (``OriginRule``); `nil` allows any.
    public var allowedOrigins: [String]?

    /// Creates a policy; every argument defaults to the value API.md gives.
    public init(
        capacity: Int = 10,
        heartbeat: Heartbeat = Heartbeat(),
        reconnectGraceMs: Millis = 90_000,
        reservationTtlMs: Millis = 30_000,
        connectTimeoutMs: Millis = 60_000,
        maxSuspendMs: Millis = 300_000,
        webhook: Webhook? = nil,
        queue: QueuePolicy = QueuePolicy(),
        allowedOrigins: [String]? = nil
    ) {
        self.capacity = capacity
        self.heartbeat = heartbeat
        self.reconnectGraceMs = reconnectGraceMs
        self.reservationTtlMs = reservationTtlMs
        self.connectTimeoutMs = connectTimeoutMs
        self.maxSuspendMs = maxSuspendMs
        self.webhook = webhook
        self.queue = queue
        self.allowedOrigins = allowedOrigins
    }
}
