extension TetherAPI {
    /// Heartbeat timing of a project.
    public struct Heartbeat: Codable, Sendable, Hashable {
        /// How often clients ping (ms).
        public var intervalMs: Int64
        /// Silence after which a connection is lost (ms).
        public var timeoutMs: Int64

        /// Creates heartbeat timing.
        public init(intervalMs: Int64, timeoutMs: Int64) {
            self.intervalMs = intervalMs
            self.timeoutMs = timeoutMs
        }
    }

    /// A project (a pool of concurrency and its policy). The webhook secret is never shown.
    public struct Project: Codable, Sendable, Hashable {
        /// A webhook as shown (its URL only).
        public struct WebhookView: Codable, Sendable, Hashable {
            /// Where events are POSTed.
            public var url: String

            /// Creates the view of a webhook.
            public init(url: String) { self.url = url }
        }
        /// The id.
        public var id: String
        /// A display name.
        public var name: String
        /// Concurrency slots.
        public var capacity: Int
        /// Heartbeat timing.
        public var heartbeat: Heartbeat
        /// How long a lost session's concurrency is held (ms).
        public var reconnectGraceMs: Int64
        /// Apply → create window (ms).
        public var reservationTtlMs: Int64
        /// Create → first connection window (ms).
        public var connectTimeoutMs: Int64
        /// Longest declared suspension honoured (ms).
        public var maxSuspendMs: Int64
        /// The webhook, if any.
        public var webhook: WebhookView?
        /// The waiting queue's settings.
        public var queue: QueuePolicy
        /// The browser origins whose pages may connect clients; absent: any.
        public var allowedOrigins: [String]?
        /// Creation time (Unix ms).
        public var createdAt: Int64
        /// Last change (Unix ms).
        public var updatedAt: Int64

        /// Creates a project body.
        public init(
            id: String, name: String, capacity: Int, heartbeat: Heartbeat, reconnectGraceMs: Int64,
            reservationTtlMs: Int64, connectTimeoutMs: Int64, maxSuspendMs: Int64, webhook: WebhookView?,
            queue: QueuePolicy = QueuePolicy(
                enabled: false, offerTtlMs: 30_000, maxLength: 10_000, clientTimeoutMs: 30_000),
            allowedOrigins: [String]? = nil, createdAt: Int64, updatedAt: Int64
        ) {
            self.id = id
            self.name = name
            self.capacity = capacity
            self.heartbeat = heartbeat
            self.reconnectGraceMs = reconnectGraceMs
            self.reservationTtlMs = reservationTtlMs
            self.connectTimeoutMs = connectTimeoutMs
            self.maxSuspendMs = maxSuspendMs
            self.webhook = webhook
            self.queue = queue
            self.allowedOrigins = allowedOrigins
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }
    }

    /// `GET /v1/projects`.
    public struct ProjectList: Codable, Sendable, Hashable {
        /// The projects.
        public var projects: [Project]

        /// Creates the list.
        public init(projects: [Project]) { self.projects = projects }
    }
}
