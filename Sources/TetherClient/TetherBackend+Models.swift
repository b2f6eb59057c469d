import TetherProtocol

// The API's bodies are TetherProtocol's `TetherAPI` types, the ones the server writes; the SDK names them
// here. `Webhook` and `Policy` are the SDK's builders of project bodies.

extension TetherBackend {
    /// Heartbeat timing of a project.
    public typealias Heartbeat = TetherAPI.Heartbeat
    /// A project (a pool of concurrency and its policy). The webhook secret is never shown.
    public typealias Project = TetherAPI.Project
    /// ApplyConcurrent's answer.
    public typealias Applied = TetherAPI.Applied
    /// CreateSession's answer: what the backend hands to its client.
    public typealias CreatedSession = TetherAPI.CreatedSession
    /// One transition of a session.
    public typealias HistoryEntry = TetherAPI.HistoryEntry
    /// Connection quality the server measured.
    public typealias SessionStats = TetherAPI.SessionStats
    /// A session as the API shows it.
    public typealias Session = TetherAPI.Session
    /// DescribeConcurrentCount's answer.
    public typealias ConcurrencyCount = TetherAPI.ConcurrencyCount
    /// A lifecycle event's type-specific fields.
    public typealias EventData = TetherAPI.EventData
    /// One lifecycle event.
    public typealias Event = TetherAPI.Event
    /// A page of events.
    public typealias EventPage = TetherAPI.EventPage
    /// `GET /v1/projects`.
    public typealias ProjectList = TetherAPI.ProjectList
    /// `GET /v1/projects/{id}/sessions`.
    public typealias SessionList = TetherAPI.SessionList

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
}
