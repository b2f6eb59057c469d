/// A waiting-queue ticket's id, minted by the shell (`qt-…`, unique across nodes).
public typealias TicketID = String

/// A project's waiting queue settings (API.md "Waiting queue"): `policy.queue`.
public struct QueuePolicy: Sendable, Hashable, Codable {
    /// Whether ApplyConcurrent with `queue: true` may queue a user on a full pool.
    public var enabled: Bool
    /// How long an offered concurrency is held for the head ticket's user.
    public var offerTtlMs: Millis
    /// The most tickets the queue holds; one more is refused (`LimitExceeded.Queue`).
    public var maxLength: Int
    /// A queued client that connected and then stayed silent this long leaves the queue.
    public var clientTimeoutMs: Millis

    /// Creates queue settings; every argument defaults to the contract's value.
    public init(
        enabled: Bool = false, offerTtlMs: Millis = 30_000, maxLength: Int = 10_000, clientTimeoutMs: Millis = 30_000
    ) {
        self.enabled = enabled
        self.offerTtlMs = offerTtlMs
        self.maxLength = maxLength
        self.clientTimeoutMs = clientTimeoutMs
    }
}

/// One user's place in a project's waiting queue.
public struct QueueTicket: Sendable, Hashable, Codable {
    /// The ticket's id.
    public var ticketId: TicketID
    /// The project.
    public var projectId: ProjectID
    /// The user waiting.
    public var userId: UserID
    /// 0–9, higher first.
    public var priority: Int
    /// The order of arrival within the project (the tie-break after priority).
    public var seq: UInt64
    /// When the user joined (Unix ms).
    public var enqueuedAt: Millis
    /// The user's IP address as the backend gave it.
    public var userIp: String?
    /// The concurrency offered to the user (held by their reservation), once the ticket reached the head.
    public var offeredConcurrency: ConcurrencyID?

    /// Creates a ticket.
    public init(
        ticketId: TicketID, projectId: ProjectID, userId: UserID, priority: Int, seq: UInt64, enqueuedAt: Millis,
        userIp: String? = nil, offeredConcurrency: ConcurrencyID? = nil
    ) {
        self.ticketId = ticketId
        self.projectId = projectId
        self.userId = userId
        self.priority = priority
        self.seq = seq
        self.enqueuedAt = enqueuedAt
        self.userIp = userIp
        self.offeredConcurrency = offeredConcurrency
    }

    /// Whether a concurrency is offered to the ticket (it no longer waits for one).
    public var isOffered: Bool { offeredConcurrency != nil }
}

/// Why a ticket left the queue (`queue.left`'s `data.reason`).
public enum QueueLeaveReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// CreateSession took the offered concurrency.
    case taken
    /// The offer lapsed before CreateSession.
    case offerExpired
    /// `DELETE /v1/projects/{id}/queue/{userId}`.
    case cancelled
    /// The project was deleted.
    case projectDeleted
    /// The ticket's client connected, then stayed silent for `clientTimeoutMs`.
    case timeout
    /// The ticket's client said `bye`.
    case left
}

/// A ticket as the API shows it: its place and the estimated wait.
public struct QueuePlace: Sendable, Hashable, Codable {
    /// The ticket.
    public var ticket: QueueTicket
    /// 1 is next; 0 once a concurrency is offered.
    public var position: Int
    /// The estimated wait until an offer (0 once offered).
    public var etaMs: Millis
    /// When the offer lapses, once offered.
    public var reservedUntil: Millis?

    /// Creates a place.
    public init(ticket: QueueTicket, position: Int, etaMs: Millis, reservedUntil: Millis? = nil) {
        self.ticket = ticket
        self.position = position
        self.etaMs = etaMs
        self.reservedUntil = reservedUntil
    }
}
