extension TetherAPI {
    /// A webhook to set: where events are POSTed, and the secret of `webhook-signature` (Standard Webhooks).
    public struct WebhookSetting: Codable, Sendable, Hashable {
        /// Where events are POSTed.
        public var url: String
        /// The HMAC-SHA256 secret.
        public var secret: String

        /// Creates a webhook setting.
        public init(url: String, secret: String) {
            self.url = url
            self.secret = secret
        }
    }

    /// Heartbeat timing to set; an absent field takes the default (create) or stays (update).
    public struct HeartbeatSetting: Codable, Sendable, Hashable {
        /// How often clients ping (ms).
        public var intervalMs: Int64?
        /// Silence after which a connection is lost (ms).
        public var timeoutMs: Int64?

        /// Creates a timing change.
        public init(intervalMs: Int64? = nil, timeoutMs: Int64? = nil) {
            self.intervalMs = intervalMs
            self.timeoutMs = timeoutMs
        }
    }

    /// The body of `POST /v1/projects`; absent policy fields take the contract's defaults.
    public struct CreateProjectRequest: Codable, Sendable, Hashable {
        /// The project's id.
        public var id: String
        /// A display name (the id when absent).
        public var name: String?
        /// Concurrency slots.
        public var capacity: Int?
        /// Heartbeat timing.
        public var heartbeat: HeartbeatSetting?
        /// `reconnectGraceMs`.
        public var reconnectGraceMs: Int64?
        /// `reservationTtlMs`.
        public var reservationTtlMs: Int64?
        /// `connectTimeoutMs`.
        public var connectTimeoutMs: Int64?
        /// `maxSuspendMs`.
        public var maxSuspendMs: Int64?
        /// The webhook.
        public var webhook: WebhookSetting?
        /// The waiting queue.
        public var queue: QueueSetting?
        /// The browser origins whose pages may connect clients (absent: any).
        public var allowedOrigins: [String]?

        /// Creates the body.
        public init(
            id: String, name: String? = nil, capacity: Int? = nil, heartbeat: HeartbeatSetting? = nil,
            reconnectGraceMs: Int64? = nil, reservationTtlMs: Int64? = nil, connectTimeoutMs: Int64? = nil,
            maxSuspendMs: Int64? = nil, webhook: WebhookSetting? = nil, queue: QueueSetting? = nil,
            allowedOrigins: [String]? = nil
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
        }
    }

    /// The body of `PATCH /v1/projects/{projectId}`: absent fields stay; `"webhook": null` removes the webhook.
    public struct UpdateProjectRequest: Codable, Sendable, Hashable {
        /// What happens to the webhook.
        public enum WebhookChange: Sendable, Hashable {
            /// Set (or replace) it.
            case set(WebhookSetting)
            /// Remove it (`"webhook": null`).
            case remove
        }
        /// A display name.
        public var name: String?
        /// Concurrency slots.
        public var capacity: Int?
        /// Heartbeat timing.
        public var heartbeat: HeartbeatSetting?
        /// `reconnectGraceMs`.
        public var reconnectGraceMs: Int64?
        /// `reservationTtlMs`.
        public var reservationTtlMs: Int64?
        /// `connectTimeoutMs`.
        public var connectTimeoutMs: Int64?
        /// `maxSuspendMs`.
        public var maxSuspendMs: Int64?
        /// The webhook change, if any.
        public var webhook: WebhookChange?
        /// Queue settings to change (absent fields stay).
        public var queue: QueueSetting?
        /// The allowed origins: absent unchanged, `.some(nil)` (`"allowedOrigins": null`) any origin again.
        public var allowedOrigins: [String]??

        private enum Keys: String, CodingKey {
            case name, capacity, heartbeat, reconnectGraceMs, reservationTtlMs, connectTimeoutMs, maxSuspendMs, webhook,
                queue, allowedOrigins
        }

        /// Creates the body.
        public init(
            name: String? = nil, capacity: Int? = nil, heartbeat: HeartbeatSetting? = nil,
            reconnectGraceMs: Int64? = nil, reservationTtlMs: Int64? = nil, connectTimeoutMs: Int64? = nil,
            maxSuspendMs: Int64? = nil, webhook: WebhookChange? = nil, queue: QueueSetting? = nil,
            allowedOrigins: [String]?? = nil
        ) {
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
        }

        /// Decodes a change: `webhook` absent, `null` (remove) or an object (set).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name)
            capacity = try c.decodeIfPresent(Int.self, forKey: .capacity)
            heartbeat = try c.decodeIfPresent(HeartbeatSetting.self, forKey: .heartbeat)
            reconnectGraceMs = try c.decodeIfPresent(Int64.self, forKey: .reconnectGraceMs)
            reservationTtlMs = try c.decodeIfPresent(Int64.self, forKey: .reservationTtlMs)
            connectTimeoutMs = try c.decodeIfPresent(Int64.self, forKey: .connectTimeoutMs)
            maxSuspendMs = try c.decodeIfPresent(Int64.self, forKey: .maxSuspendMs)
            queue = try c.decodeIfPresent(QueueSetting.self, forKey: .queue)
            if c.contains(.webhook) {
                webhook =
                    try c.decodeNil(forKey: .webhook) ? .remove : .set(c.decode(WebhookSetting.self, forKey: .webhook))
            }
            if c.contains(.allowedOrigins) {
                allowedOrigins =
                    try c.decodeNil(forKey: .allowedOrigins)
                    ? .some(nil) : .some(c.decode([String].self, forKey: .allowedOrigins))
            }
        }

        /// Encodes the change: absent fields left out, a removal as `"webhook": null`.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encodeIfPresent(name, forKey: .name)
            try c.encodeIfPresent(capacity, forKey: .capacity)
            try c.encodeIfPresent(heartbeat, forKey: .heartbeat)
            try c.encodeIfPresent(reconnectGraceMs, forKey: .reconnectGraceMs)
            try c.encodeIfPresent(reservationTtlMs, forKey: .reservationTtlMs)
            try c.encodeIfPresent(connectTimeoutMs, forKey: .connectTimeoutMs)
            try c.encodeIfPresent(maxSuspendMs, forKey: .maxSuspendMs)
            try c.encodeIfPresent(queue, forKey: .queue)
            switch webhook {
            case .set(let setting): try c.encode(setting, forKey: .webhook)
            case .remove: try c.encodeNil(forKey: .webhook)
            case nil: break
            }
            switch allowedOrigins {
            case .some(.some(let origins)): try c.encode(origins, forKey: .allowedOrigins)
            case .some(nil): try c.encodeNil(forKey: .allowedOrigins)
            case nil: break
            }
        }
    }
}
