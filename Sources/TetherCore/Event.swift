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
///
/// Kept small because the event feed holds tens of thousands of events in memory (docs/PERFORMANCE.md, "Memory
/// per idle session"): the deadline is a `CompactOptional` (8 bytes, where an optional takes 9 and 7 of
/// padding), and the queue's fields, which only `queue.*` events set, live out of line; the one-byte fields last, so
/// that an `Event` can put its type in the byte after them. 23 bytes, from 50.
public struct EventData: Sendable, Hashable, Codable {
    private struct QueueFields: Sendable, Hashable {
        var ticketId: TicketID?
        var position: Int?
        var queueReason: QueueLeaveReason?
    }

    private var storedDeadlineAt: CompactOptional<Millis>
    private var queue = OutOfLine<QueueFields>()
    /// The queue's fields; all unset again, the box is dropped (as `SessionMetadata` does).
    private var queueFields: QueueFields {
        get { queue.value ?? QueueFields() }
        set { queue.value = newValue == QueueFields() ? nil : newValue }
    }
    /// `session.disconnected`: why the connection was lost.
    public var cause: DisconnectCause?
    /// `session.ended`: why the session ended.
    public var reason: EndReason?
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

    /// The new deadline (Unix ms): grace end, suspension end, connect or reservation deadline.
    public var deadlineAt: Millis? {
        get { storedDeadlineAt.value }
        set { storedDeadlineAt.value = newValue }
    }

    /// `queue.*`: the ticket.
    public var ticketId: TicketID? {
        get { queue.value?.ticketId }
        set { queueFields.ticketId = newValue }
    }

    /// `queue.joined`: the ticket's position when it joined.
    public var position: Int? {
        get { queue.value?.position }
        set { queueFields.position = newValue }
    }

    /// `queue.left`: why the ticket left (written as `reason`).
    public var queueReason: QueueLeaveReason? {
        get { queue.value?.queueReason }
        set { queueFields.queueReason = newValue }
    }

    /// Creates event data.
    public init(
        cause: DisconnectCause? = nil, reason: EndReason? = nil, deadlineAt: Millis? = nil, reused: Bool? = nil,
        transport: Transport? = nil, suspendReason: SuspendReason? = nil, retired: Bool? = nil,
        from: SessionState? = nil, ticketId: TicketID? = nil, position: Int? = nil,
        queueReason: QueueLeaveReason? = nil
    ) {
        self.storedDeadlineAt = CompactOptional(deadlineAt)
        self.cause = cause
        self.reason = reason
        self.reused = reused
        self.transport = transport
        self.suspendReason = suspendReason
        self.retired = retired
        self.from = from
        if ticketId != nil || position != nil || queueReason != nil {
            self.queue = OutOfLine(QueueFields(ticketId: ticketId, position: position, queueReason: queueReason))
        }
    }

    private enum CodingKeys: String, CodingKey {
        case cause, reason, deadlineAt, reused, transport, suspendReason, retired, from, ticketId, position
        case queueReason
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            cause: try c.decodeIfPresent(DisconnectCause.self, forKey: .cause),
            reason: try c.decodeIfPresent(EndReason.self, forKey: .reason),
            deadlineAt: try c.decodeIfPresent(Millis.self, forKey: .deadlineAt),
            reused: try c.decodeIfPresent(Bool.self, forKey: .reused),
            transport: try c.decodeIfPresent(Transport.self, forKey: .transport),
            suspendReason: try c.decodeIfPresent(SuspendReason.self, forKey: .suspendReason),
            retired: try c.decodeIfPresent(Bool.self, forKey: .retired),
            from: try c.decodeIfPresent(SessionState.self, forKey: .from),
            ticketId: try c.decodeIfPresent(TicketID.self, forKey: .ticketId),
            position: try c.decodeIfPresent(Int.self, forKey: .position),
            queueReason: try c.decodeIfPresent(QueueLeaveReason.self, forKey: .queueReason))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(cause, forKey: .cause)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(deadlineAt, forKey: .deadlineAt)
        try c.encodeIfPresent(reused, forKey: .reused)
        try c.encodeIfPresent(transport, forKey: .transport)
        try c.encodeIfPresent(suspendReason, forKey: .suspendReason)
        try c.encodeIfPresent(retired, forKey: .retired)
        try c.encodeIfPresent(from, forKey: .from)
        try c.encodeIfPresent(ticketId, forKey: .ticketId)
        try c.encodeIfPresent(position, forKey: .position)
        try c.encodeIfPresent(queueReason, forKey: .queueReason)
    }
}

/// One lifecycle event. `cursor` grows strictly across the server; `sessionSeq` within a session.
///
/// Stored compactly (the event feed keeps tens of thousands in memory): the epoch and the session sequence
/// are `CompactOptional`s, the strings first, the one-byte type last. 120 bytes, from 170.
public struct Event: Sendable, Hashable, Codable {
    /// The event's position in the global, ordered feed.
    public var cursor: UInt64
    /// When it happened (Unix ms).
    public var at: Millis
    /// The project.
    public var projectId: ProjectID
    /// The session, for `session.*` events and releases of a session's slot.
    public var sessionId: SessionID?
    /// The user.
    public var userId: UserID
    /// The concurrency concerned.
    public var concurrencyId: ConcurrencyID
    private var storedEpoch: CompactOptional<UInt64>
    private var storedSessionSeq: CompactOptional<UInt64>
    /// Type-specific fields.
    public var data: EventData
    /// What happened.
    public var type: EventType

    /// The session's epoch at the time (epochs start at 1).
    public var epoch: UInt64? {
        get { storedEpoch.value }
        set { storedEpoch.value = newValue }
    }

    /// The event's position among its session's events (from 1).
    public var sessionSeq: UInt64? {
        get { storedSessionSeq.value }
        set { storedSessionSeq.value = newValue }
    }

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
        self.storedEpoch = CompactOptional(epoch)
        self.storedSessionSeq = CompactOptional(sessionSeq)
        self.data = data
    }

    private enum CodingKeys: String, CodingKey {
        case cursor, at, type, projectId, sessionId, userId, concurrencyId, epoch, sessionSeq, data
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            cursor: try c.decode(UInt64.self, forKey: .cursor), at: try c.decode(Millis.self, forKey: .at),
            type: try c.decode(EventType.self, forKey: .type),
            projectId: try c.decode(ProjectID.self, forKey: .projectId),
            sessionId: try c.decodeIfPresent(SessionID.self, forKey: .sessionId),
            userId: try c.decode(UserID.self, forKey: .userId),
            concurrencyId: try c.decode(ConcurrencyID.self, forKey: .concurrencyId),
            epoch: try c.decodeIfPresent(UInt64.self, forKey: .epoch),
            sessionSeq: try c.decodeIfPresent(UInt64.self, forKey: .sessionSeq),
            data: try c.decode(EventData.self, forKey: .data))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cursor, forKey: .cursor)
        try c.encode(at, forKey: .at)
        try c.encode(type, forKey: .type)
        try c.encode(projectId, forKey: .projectId)
        try c.encodeIfPresent(sessionId, forKey: .sessionId)
        try c.encode(userId, forKey: .userId)
        try c.encode(concurrencyId, forKey: .concurrencyId)
        try c.encodeIfPresent(epoch, forKey: .epoch)
        try c.encodeIfPresent(sessionSeq, forKey: .sessionSeq)
        try c.encode(data, forKey: .data)
    }
}
