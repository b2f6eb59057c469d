extension TetherBackend {
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
        /// Creation time (Unix ms).
        public var createdAt: Int64
        /// Last change (Unix ms).
        public var updatedAt: Int64
    }

    /// A webhook to set: URL and signing secret.
    public struct Webhook: Codable, Sendable, Hashable {
        /// Where events are POSTed.
        public var url: String
        /// The HMAC-SHA256 secret of `X-Tether-Signature`.
        public var secret: String?
        /// Creates a webhook.
        public init(url: String, secret: String? = nil) {
            self.url = url
            self.secret = secret
        }
    }

    /// Policy fields for create and update; `nil` fields are not sent (defaults on create, unchanged on update).
    public struct Policy: Sendable, Hashable {
        /// A display name.
        public var name: String?
        /// Concurrency slots.
        public var capacity: Int?
        /// `heartbeat.intervalMs`.
        public var heartbeatIntervalMs: Int64?
        /// `heartbeat.timeoutMs`.
        public var heartbeatTimeoutMs: Int64?
        /// `reconnectGraceMs`.
        public var reconnectGraceMs: Int64?
        /// `reservationTtlMs`.
        public var reservationTtlMs: Int64?
        /// `connectTimeoutMs`.
        public var connectTimeoutMs: Int64?
        /// `maxSuspendMs`.
        public var maxSuspendMs: Int64?
        /// The webhook to set.
        public var webhook: Webhook?
        /// Update only: remove the webhook (`"webhook": null`).
        public var removeWebhook = false

        /// Creates a policy change.
        public init(
            name: String? = nil, capacity: Int? = nil, heartbeatIntervalMs: Int64? = nil,
            heartbeatTimeoutMs: Int64? = nil, reconnectGraceMs: Int64? = nil, reservationTtlMs: Int64? = nil,
            connectTimeoutMs: Int64? = nil, maxSuspendMs: Int64? = nil, webhook: Webhook? = nil,
            removeWebhook: Bool = false
        ) {
            self.name = name
            self.capacity = capacity
            self.heartbeatIntervalMs = heartbeatIntervalMs
            self.heartbeatTimeoutMs = heartbeatTimeoutMs
            self.reconnectGraceMs = reconnectGraceMs
            self.reservationTtlMs = reservationTtlMs
            self.connectTimeoutMs = connectTimeoutMs
            self.maxSuspendMs = maxSuspendMs
            self.webhook = webhook
            self.removeWebhook = removeWebhook
        }

        /// The JSON object's fields (`id` added by the caller on create).
        var fields: [String: any Sendable] {
            var f: [String: any Sendable] = [:]
            if let name { f["name"] = name }
            if let capacity { f["capacity"] = capacity }
            var heartbeat: [String: Int64] = [:]
            if let heartbeatIntervalMs { heartbeat["intervalMs"] = heartbeatIntervalMs }
            if let heartbeatTimeoutMs { heartbeat["timeoutMs"] = heartbeatTimeoutMs }
            if !heartbeat.isEmpty { f["heartbeat"] = heartbeat }
            if let reconnectGraceMs { f["reconnectGraceMs"] = reconnectGraceMs }
            if let reservationTtlMs { f["reservationTtlMs"] = reservationTtlMs }
            if let connectTimeoutMs { f["connectTimeoutMs"] = connectTimeoutMs }
            if let maxSuspendMs { f["maxSuspendMs"] = maxSuspendMs }
            if let webhook {
                var w: [String: String] = ["url": webhook.url]
                if let secret = webhook.secret { w["secret"] = secret }
                f["webhook"] = w
            }
            return f
        }
    }

    /// ApplyConcurrent's answer.
    public struct Applied: Codable, Sendable, Hashable {
        /// The concurrency reserved.
        public var concurrencyId: String
        /// The user's previous concurrency was still held.
        public var reused: Bool
        /// When the reservation lapses (Unix ms).
        public var reservedUntil: Int64
    }

    /// CreateSession's answer: what the backend hands to its client.
    public struct CreatedSession: Codable, Sendable, Hashable {
        /// Where the client connects.
        public struct Connect: Codable, Sendable, Hashable {
            /// `ws://host:port/v1/connect`.
            public var websocket: String
            /// `tcp://host:port`, when the TCP port is on.
            public var tcp: String?
            /// `http://host:port/v1/heartbeat`.
            public var http: String
        }
        /// The session.
        public var sessionId: String
        /// The user.
        public var userId: String
        /// The concurrency held.
        public var concurrencyId: String
        /// The epoch the token is for.
        public var epoch: UInt64
        /// The session's state.
        public var state: String
        /// The client's token (bound to session and epoch).
        public var clientToken: String
        /// Where to connect.
        public var connect: Connect
        /// Heartbeat timing.
        public var heartbeat: Heartbeat
        /// The grace window after a loss (ms).
        public var reconnectGraceMs: Int64
    }

    /// One transition of a session.
    public struct HistoryEntry: Codable, Sendable, Hashable {
        /// When (Unix ms).
        public var at: Int64
        /// The event type that recorded it.
        public var type: String
        /// The state after it.
        public var state: String
        /// The epoch after it.
        public var epoch: UInt64
        /// The disconnect cause, if any.
        public var cause: String?
        /// The end reason, if any.
        public var reason: String?
    }

    /// Connection quality the server measured.
    public struct SessionStats: Codable, Sendable, Hashable {
        /// RTT percentiles (ms).
        public struct Percentiles: Codable, Sendable, Hashable {
            /// Median.
            public var p50: Double?
            /// 99th percentile.
            public var p99: Double?
        }
        /// Round trips (ms).
        public var rttMs: Percentiles
        /// Jitter (ms).
        public var jitterMs: Double?
        /// Loss rate (0...1).
        public var lossRate: Double?
        /// Heartbeats received.
        public var heartbeats: UInt64
    }

    /// A session as the API shows it.
    public struct Session: Codable, Sendable, Hashable {
        /// The id.
        public var sessionId: String
        /// The project.
        public var projectId: String
        /// The user.
        public var userId: String
        /// The concurrency held.
        public var concurrencyId: String
        /// The current epoch.
        public var epoch: UInt64
        /// `created`, `connected`, `suspended`, `grace` or `ended`.
        public var state: String
        /// Why it ended.
        public var endReason: String?
        /// The last disconnect cause.
        public var lastCause: String?
        /// The current deadline (Unix ms).
        public var deadlineAt: Int64?
        /// Creation time (Unix ms).
        public var createdAt: Int64
        /// Last change (Unix ms).
        public var updatedAt: Int64
        /// End time (Unix ms).
        public var endedAt: Int64?
        /// The last heartbeat (Unix ms).
        public var lastHeartbeatAt: Int64?
        /// The current connection's transport.
        public var transport: String?
        /// As given at CreateSession.
        public var userIp: String?
        /// As given at CreateSession.
        public var clientSession: String?
        /// As given at CreateSession.
        public var runMode: String?
        /// The last transitions.
        public var history: [HistoryEntry]
        /// Connection quality.
        public var stats: SessionStats?
    }

    /// DescribeConcurrentCount's answer.
    public struct ConcurrencyCount: Codable, Sendable, Hashable {
        /// Slots in the pool.
        public var total: Int
        /// Nobody holds them.
        public var idle: Int
        /// Held by a reservation only.
        public var reserved: Int
        /// `total - idle`.
        public var running: Int
        /// Sessions created, not yet connected.
        public var created: Int?
        /// Sessions connected.
        public var connected: Int
        /// Sessions suspended.
        public var suspended: Int
        /// Sessions in grace.
        public var grace: Int
    }

    /// A lifecycle event's type-specific fields.
    public struct EventData: Codable, Sendable, Hashable {
        /// `session.disconnected`: why.
        public var cause: String?
        /// `session.ended`: why.
        public var reason: String?
        /// A new deadline (Unix ms).
        public var deadlineAt: Int64?
        /// `concurrency.reserved`: the user's held concurrency was handed back.
        public var reused: Bool?
        /// Connection events: the transport.
        public var transport: String?
        /// `session.suspended`: the declared reason.
        public var suspendReason: String?
        /// `concurrency.released`: the slot retired.
        public var retired: Bool?
        /// The state the session left.
        public var from: String?
    }

    /// One lifecycle event.
    public struct Event: Codable, Sendable, Hashable {
        /// Position in the server's ordered feed.
        public var cursor: UInt64
        /// When (Unix ms).
        public var at: Int64
        /// `session.created`, `session.connected`, ...
        public var type: String
        /// The project.
        public var projectId: String
        /// The session, if any.
        public var sessionId: String?
        /// The user.
        public var userId: String
        /// The concurrency.
        public var concurrencyId: String
        /// The session's epoch.
        public var epoch: UInt64?
        /// Position among the session's events.
        public var sessionSeq: UInt64?
        /// Type-specific fields.
        public var data: EventData
    }

    /// A page of events.
    public struct EventPage: Codable, Sendable, Hashable {
        /// The events, in cursor order.
        public var events: [Event]
        /// Pass as `after` to read on.
        public var nextCursor: UInt64
    }

    /// `GET /v1/projects`.
    public struct ProjectList: Codable, Sendable, Hashable {
        /// The projects.
        public var projects: [Project]
    }

    /// `GET /v1/projects/{id}/sessions`.
    public struct SessionList: Codable, Sendable, Hashable {
        /// The sessions.
        public var sessions: [Session]
    }
}
