import TetherProtocol

// The API's bodies are TetherProtocol's `TetherAPI` types, the ones the server writes; the SDK names them
// here. `Policy` is the SDK's builder of the project bodies.

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
    public typealias Webhook = TetherAPI.WebhookSetting
    /// Waiting queue settings to set.
    public typealias QueueSetting = TetherAPI.QueueSetting
    /// ApplyConcurrent's answer when the user was queued.
    public typealias Queued = TetherAPI.Queued
    /// One ticket of a project's waiting queue.
    public typealias QueueTicket = TetherAPI.QueueTicket
    /// `GET /v1/projects/{id}/queue`.
    public typealias QueueList = TetherAPI.QueueList

    /// ApplyConcurrent with `queue: true`: a reservation (200), or a place in the queue (202).
    public enum ApplyOutcome: Decodable, Sendable, Hashable {
        /// A concurrency is reserved (idle, held already, or offered to this user).
        case applied(Applied)
        /// The pool is full: the user's place in the queue.
        case queued(Queued)

        /// Decodes either answer (a queued one says `"queued": true`).
        public init(from decoder: any Decoder) throws {
            if let queued = try? Queued(from: decoder), queued.queued {
                self = .queued(queued)
            } else {
                self = .applied(try Applied(from: decoder))
            }
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
        /// The waiting queue's settings to set.
        public var queue: QueueSetting?
        /// The browser origins whose pages may connect clients (`nil`: not sent).
        public var allowedOrigins: [String]?
        /// Update only: allow any origin again (`"allowedOrigins": null`).
        public var anyOrigin = false

        /// Creates a policy change.
        public init(
            name: String? = nil, capacity: Int? = nil, heartbeatIntervalMs: Int64? = nil,
            heartbeatTimeoutMs: Int64? = nil, reconnectGraceMs: Int64? = nil, reservationTtlMs: Int64? = nil,
            connectTimeoutMs: Int64? = nil, maxSuspendMs: Int64? = nil, webhook: Webhook? = nil,
            removeWebhook: Bool = false, queue: QueueSetting? = nil, allowedOrigins: [String]? = nil,
            anyOrigin: Bool = false
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
            self.queue = queue
            self.allowedOrigins = allowedOrigins
            self.anyOrigin = anyOrigin
        }

        /// The body of CreateApplicationProject with this policy.
        public func createRequest(id: String) -> TetherAPI.CreateProjectRequest {
            TetherAPI.CreateProjectRequest(
                id: id, name: name, capacity: capacity, heartbeat: heartbeatSetting, reconnectGraceMs: reconnectGraceMs,
                reservationTtlMs: reservationTtlMs, connectTimeoutMs: connectTimeoutMs, maxSuspendMs: maxSuspendMs,
                webhook: webhook, queue: queue, allowedOrigins: allowedOrigins)
        }

        /// The body of ModifyApplicationProject with this change.
        public var updateRequest: TetherAPI.UpdateProjectRequest {
            TetherAPI.UpdateProjectRequest(
                name: name, capacity: capacity, heartbeat: heartbeatSetting, reconnectGraceMs: reconnectGraceMs,
                reservationTtlMs: reservationTtlMs, connectTimeoutMs: connectTimeoutMs, maxSuspendMs: maxSuspendMs,
                webhook: removeWebhook ? .remove : webhook.map { .set($0) }, queue: queue,
                allowedOrigins: anyOrigin ? .some(nil) : allowedOrigins.map { .some($0) })
        }

        private var heartbeatSetting: TetherAPI.HeartbeatSetting? {
            heartbeatIntervalMs == nil && heartbeatTimeoutMs == nil
                ? nil : TetherAPI.HeartbeatSetting(intervalMs: heartbeatIntervalMs, timeoutMs: heartbeatTimeoutMs)
        }
    }
}
