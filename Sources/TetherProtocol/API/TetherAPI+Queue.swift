extension TetherAPI {
    /// A project's waiting queue settings to set; an absent field takes the default (create) or stays (update).
    public struct QueueSetting: Codable, Sendable, Hashable {
        /// Whether a full pool queues users who apply with `queue: true`.
        public var enabled: Bool?
        /// How long an offered concurrency is held (ms).
        public var offerTtlMs: Int64?
        /// The most tickets the queue holds.
        public var maxLength: Int?
        /// Silence after which a connected queued client leaves (ms).
        public var clientTimeoutMs: Int64?

        /// Creates a setting.
        public init(
            enabled: Bool? = nil, offerTtlMs: Int64? = nil, maxLength: Int? = nil, clientTimeoutMs: Int64? = nil
        ) {
            self.enabled = enabled
            self.offerTtlMs = offerTtlMs
            self.maxLength = maxLength
            self.clientTimeoutMs = clientTimeoutMs
        }
    }

    /// A project's waiting queue settings as shown.
    public struct QueuePolicy: Codable, Sendable, Hashable {
        /// Whether a full pool queues users who apply with `queue: true`.
        public var enabled: Bool
        /// How long an offered concurrency is held (ms).
        public var offerTtlMs: Int64
        /// The most tickets the queue holds.
        public var maxLength: Int
        /// Silence after which a connected queued client leaves (ms).
        public var clientTimeoutMs: Int64

        /// Creates the view.
        public init(enabled: Bool, offerTtlMs: Int64, maxLength: Int, clientTimeoutMs: Int64) {
            self.enabled = enabled
            self.offerTtlMs = offerTtlMs
            self.maxLength = maxLength
            self.clientTimeoutMs = clientTimeoutMs
        }
    }

    /// ApplyConcurrent's answer when the user was queued (202).
    public struct Queued: Codable, Sendable, Hashable {
        /// Always `true`.
        public var queued: Bool
        /// The ticket.
        public var ticketId: String
        /// 1 is next.
        public var position: Int
        /// The estimated wait until an offer (ms).
        public var etaMs: Int64
        /// What the end user's client sends in `hello {queueToken}` to wait live.
        public var queueToken: String
        /// Where that client connects (as CreateSession's `connect`).
        public var connect: CreatedSession.Connect?

        /// Creates the answer.
        public init(
            ticketId: String, position: Int, etaMs: Int64, queueToken: String, connect: CreatedSession.Connect? = nil
        ) {
            self.queued = true
            self.ticketId = ticketId
            self.position = position
            self.etaMs = etaMs
            self.queueToken = queueToken
            self.connect = connect
        }
    }

    /// One ticket of a project's queue.
    public struct QueueTicket: Codable, Sendable, Hashable {
        /// The ticket.
        public var ticketId: String
        /// The user waiting.
        public var userId: String
        /// 1 is next; 0 once offered.
        public var position: Int
        /// 0–9, higher first.
        public var priority: Int
        /// When the user joined (Unix ms).
        public var enqueuedAt: Int64
        /// The estimated wait until an offer (ms; 0 once offered).
        public var etaMs: Int64
        /// `waiting`, `offered`, or `left` (in the answer of a cancel).
        public var state: String
        /// Whether the user's client is connected to the client plane with the queue token.
        public var clientConnected: Bool
        /// The concurrency offered, once offered.
        public var concurrencyId: String?
        /// When the offer lapses (Unix ms), once offered.
        public var reservedUntil: Int64?

        /// Creates a ticket body.
        public init(
            ticketId: String, userId: String, position: Int, priority: Int, enqueuedAt: Int64, etaMs: Int64,
            state: String, clientConnected: Bool, concurrencyId: String? = nil, reservedUntil: Int64? = nil
        ) {
            self.ticketId = ticketId
            self.userId = userId
            self.position = position
            self.priority = priority
            self.enqueuedAt = enqueuedAt
            self.etaMs = etaMs
            self.state = state
            self.clientConnected = clientConnected
            self.concurrencyId = concurrencyId
            self.reservedUntil = reservedUntil
        }
    }

    /// `GET /v1/projects/{projectId}/queue`.
    public struct QueueList: Codable, Sendable, Hashable {
        /// How many tickets (waiting and offered).
        public var length: Int
        /// The tickets in queue order: offered first, then the waiting ones by position.
        public var tickets: [QueueTicket]

        /// Creates the list.
        public init(length: Int, tickets: [QueueTicket]) {
            self.length = length
            self.tickets = tickets
        }
    }
}
