/// Which kind of deadline passed.
public enum DeadlineKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A created session's `connectTimeoutMs`.
    case connect
    /// A connected session's heartbeat timeout.
    case heartbeat
    /// A declared suspension.
    case suspension
    /// A grace window.
    case grace
    /// A reservation's time to live.
    case reservation
}

/// An order to close one client connection, after telling it why with `kick`.
public struct Kick: Sendable, Hashable {
    /// The connection to close.
    public var connection: ConnectionID
    /// Its session.
    public var sessionId: SessionID
    /// Why.
    public var reason: KickReason
    /// When the client should come back (shutdown only).
    public var retryAfterMs: Millis?

    /// Creates a kick.
    public init(connection: ConnectionID, sessionId: SessionID, reason: KickReason, retryAfterMs: Millis? = nil) {
        self.connection = connection
        self.sessionId = sessionId
        self.reason = reason
        self.retryAfterMs = retryAfterMs
    }
}

/// What the shell must carry out after a command or an advance of time, in order.
///
/// Durable effects (`save…`, `delete…`, `event`) of one command belong in one transaction that commits
/// before the command is acknowledged. Kicks come after the state changes they follow from, so that a
/// burst of expiries releases every slot before the first socket is closed.
public enum Effect: Sendable, Hashable {
    /// Append to the event log and publish.
    case event(Event)
    /// Upsert a project.
    case saveProject(Project)
    /// Delete a project.
    case deleteProject(ProjectID)
    /// Upsert a reservation.
    case saveReservation(Reservation)
    /// Delete the reservation of a user in a project.
    case deleteReservation(ProjectID, UserID)
    /// Upsert a session (an ended one is final).
    case saveSession(Session)
    /// Upsert a waiting-queue ticket.
    case saveTicket(QueueTicket)
    /// Delete the ticket of a user in a project.
    case deleteTicket(ProjectID, UserID)
    /// Tell a client why, then close its connection.
    case kick(Kick)
    /// Tell a queued client its place or its offer (the connection stays open).
    case queueNotice(QueueNotice)
    /// A deadline was processed `latenessMs` after it passed (for metrics).
    case deadlineExpired(DeadlineKind, latenessMs: Millis)
    /// The process stalled; every deadline was moved this much later.
    case deadlinesShifted(byMs: Millis)
    /// The session ended (its final record is in a `saveSession` before this): the shell forgets what it
    /// keeps per session (stats, HTTP links).
    case sessionEnded(SessionID)
    /// Append to the audit trail, in the same transaction as the change it records (added by the shell, which
    /// knows the request; the broker never produces it).
    case audit(AuditRecord)
}

/// What a queued client is told, on its connection.
public struct QueueNotice: Sendable, Hashable {
    /// What the message says.
    public enum Kind: Sendable, Hashable {
        /// `queued {ticketId, position, etaMs}`.
        case place(position: Int, etaMs: Millis)
        /// `offered {concurrencyId, reservedUntil}`.
        case offered(concurrencyId: ConcurrencyID, reservedUntil: Millis)
    }

    /// The queued client's connection.
    public var connection: ConnectionID
    /// Its ticket.
    public var ticketId: TicketID
    /// The message.
    public var kind: Kind

    /// Creates a notice.
    public init(connection: ConnectionID, ticketId: TicketID, kind: Kind) {
        self.connection = connection
        self.ticketId = ticketId
        self.kind = kind
    }
}
