/// A concurrency held for one user after ApplyConcurrent, until CreateSession or `reservedUntil`.
public struct Reservation: Sendable, Hashable, Codable {
    /// The project.
    public var projectId: ProjectID
    /// The user it is held for.
    public var userId: UserID
    /// The concurrency held.
    public var concurrencyId: ConcurrencyID
    /// When it lapses (Unix ms).
    public var reservedUntil: Millis
    /// The user's IP address as the backend gave it.
    public var userIp: String?

    /// Creates a reservation.
    public init(
        projectId: ProjectID, userId: UserID, concurrencyId: ConcurrencyID, reservedUntil: Millis,
        userIp: String? = nil
    ) {
        self.projectId = projectId
        self.userId = userId
        self.concurrencyId = concurrencyId
        self.reservedUntil = reservedUntil
        self.userIp = userIp
    }
}

/// ApplyConcurrent's answer.
public struct Applied: Sendable, Hashable, Codable {
    /// The concurrency reserved.
    public var concurrencyId: ConcurrencyID
    /// Whether it is the user's previous concurrency (reserved, live or in grace).
    public var reused: Bool
    /// When the reservation lapses (Unix ms).
    public var reservedUntil: Millis

    /// Creates an answer.
    public init(concurrencyId: ConcurrencyID, reused: Bool, reservedUntil: Millis) {
        self.concurrencyId = concurrencyId
        self.reused = reused
        self.reservedUntil = reservedUntil
    }
}

/// DescribeConcurrentCount: the pool by state. `running` is everything not idle, as in CAR.
public struct ConcurrencyCount: Sendable, Hashable, Codable {
    /// Slots in the pool, including retiring slots still held.
    public var total: Int
    /// Slots nobody holds.
    public var idle: Int
    /// Slots held by a reservation only.
    public var reserved: Int
    /// `total - idle`.
    public var running: Int
    /// Sessions created and not yet connected.
    public var created: Int
    /// Sessions connected.
    public var connected: Int
    /// Sessions suspended.
    public var suspended: Int
    /// Sessions in grace.
    public var grace: Int

    /// Creates a count.
    public init(
        total: Int, idle: Int, reserved: Int, running: Int, created: Int, connected: Int, suspended: Int, grace: Int
    ) {
        self.total = total
        self.idle = idle
        self.reserved = reserved
        self.running = running
        self.created = created
        self.connected = connected
        self.suspended = suspended
        self.grace = grace
    }
}
