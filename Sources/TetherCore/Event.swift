/// The kinds of lifecycle event (API.md "Events").
public enum EventType: String, Sendable, Hashable, Codable, CaseIterable {
    /// CreateSession made a session or a new epoch of one.
    case sessionCreated = "session.created"
    /// A client connected for the first time, or came back from a suspension.
    case sessionConnected = "session.connected"
    /// The client declared a suspension.
    case sessionSuspended = "session.suspended"
    /// The connection was lost (`data.cause`); the session is in grace (or ends when grace is 0).
    case sessionDisconnected = "session.disconnected"
    /// A new connection took the session back after a loss or a replacement.
    case sessionReconnected = "session.reconnected"
    /// The session is over (`data.reason`).
    case sessionEnded = "session.ended"
    /// ApplyConcurrent reserved (or renewed) a concurrency for a user.
    case concurrencyReserved = "concurrency.reserved"
    /// A concurrency became idle (or retired, `data.retired`).
    case concurrencyReleased = "concurrency.released"
    /// A user joined the project's waiting queue (`data.ticketId`, `data.position`).
    case queueJoined = "queue.joined"
    /// A freed concurrency was offered to the head ticket (`data.ticketId`, `data.deadlineAt`: the offer's end).
    case queueOffered = "queue.offered"
    /// A ticket left the queue (`data.ticketId`, `data.reason`: a ``QueueLeaveReason``).
    case queueLeft = "queue.left"
}

/// The type-specific fields of an event (`data` in JSON). Unused fields are `nil`.
public struct EventData: Sendable, Hashable, Codable {
    /// `session.disconnected`: why the connection was lost.
    public var cause: DisconnectCause?
    /// `session.ended`: why the session ended.
    public var reason: EndReason?
    /// The new deadline (Unix ms): grace end, suspension end, connect or reservation deadline.
    public var deadlineAt: Millis?
    /// `concurrency.reserved`: whether the user's held concurrency was handed back.
    public var reused: Bool?
    /// Connection events: the transport of the new connection.
    public var transport: Transport?
    /// `session.suspended`: the declared reason.
    public var suspendReason: SuspendReason?
    /// `concurrency.released`: the slot retired after a capacity decrease.
    public var retired: Bool?
    /// The state the session left.
    public var from: SessionState?
    /// `queue.*`: the ticket.
    public var ticketId: TicketID?
    /// `queue.joined`: the ticket's position when it joined.
    public var position: Int?
    /// `queue.left`: why the ticket left (written as `reason`).
    public var queueReason: QueueLeaveReason?

    /// Creates event data.
    public init(
        cause: DisconnectCause? = nil, reason: EndReason? = nil, deadlineAt: Millis? = nil, reused: Bool? = nil,
        transport: Transport? = nil, suspendReason: SuspendReason? = nil, retired: Bool? = nil,
        from: SessionState? = nil, ticketId: TicketID? = nil, position: Int? = nil,
        queueReason: QueueLeaveReason? = nil
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
        self.queueReason = queueReason
    }
}

/// One lifecycle event. `cursor` grows strictly across the server; `sessionSeq` within a session.
public struct Event: Sendable, Hashable, Codable {
    /// The event's position in the global, ordered feed.
    public var cursor: UInt64
    /// When it happened (Unix ms).
    public var at: Millis
    /// What happened.
    public var type: EventType
    /// The project.
    public var projectId: ProjectID
    /// The session, for `session.*` events and releases of a session's slot.
    public var sessionId: SessionID?
    /// The user.
    public var userId: UserID
    /// The concurrency concerned.
    public var concurrencyId: ConcurrencyID
    /// The session's epoch at the time.
    public var epoch: UInt64?
    /// The event's position among its session's events.
    public var sessionSeq: UInt64?
    /// Type-specific fields.
    public var data: EventData

    /// Creates an event.
    public init(
        cursor: UInt64, at: Millis, type: EventType, projectId: ProjectID, sessionId: SessionID?, userId: UserID,
        concurrencyId: ConcurrencyID, epoch: UInt64?, sessionSeq: UInt64?, data: EventData
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
