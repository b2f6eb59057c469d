extension TetherAPI {
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
        /// `queue.*`: the ticket.
        public var ticketId: String?
        /// `queue.joined`: the ticket's position.
        public var position: Int?
        /// `queue.offered`: the concurrency offered.
        public var concurrencyId: String?
        /// `queue.offered`: when the offer lapses (Unix ms).
        public var reservedUntil: Int64?

        /// Creates the fields.
        public init(
            cause: String? = nil, reason: String? = nil, deadlineAt: Int64? = nil, reused: Bool? = nil,
            transport: String? = nil, suspendReason: String? = nil, retired: Bool? = nil, from: String? = nil,
            ticketId: String? = nil, position: Int? = nil, concurrencyId: String? = nil, reservedUntil: Int64? = nil
        ) {
            self.cause = cause
            self.reason = reason
            self.deadlineAt = deadlineAt
            self.reused = reused
            self.transport = transport
            self.suspendReason = suspendReason
            self.retired = retired
            self.from = from
            self.ticketId = ticketId
            self.position = position
            self.concurrencyId = concurrencyId
            self.reservedUntil = reservedUntil
        }
    }

    /// One lifecycle event (the feed, SSE frames and webhook bodies).
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

        /// Creates an event body.
        public init(
            cursor: UInt64, at: Int64, type: String, projectId: String, sessionId: String?, userId: String,
            concurrencyId: String, epoch: UInt64?, sessionSeq: UInt64?, data: EventData
        ) {
            self.cursor = cursor
            self.at = at
            self.type = type
            self.projectId = projectId
            self.sessionId = sessionId
            self.userId = userId
            self.concurrencyId = concurrencyId
            self.epoch = epoch
            self.sessionSeq = sessionSeq
            self.data = data
        }
    }

    /// A page of events (`GET /v1/events`).
    public struct EventPage: Codable, Sendable, Hashable {
        /// The events, in cursor order.
        public var events: [Event]
        /// Pass as `after` to read on.
        public var nextCursor: UInt64

        /// Creates a page.
        public init(events: [Event], nextCursor: UInt64) {
            self.events = events
            self.nextCursor = nextCursor
        }
    }
}
