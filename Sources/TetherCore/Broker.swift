/// The broker: every rule of Tether as a pure, synchronous, deterministic state machine.
///
/// Shaped like `SWIM.Instance`: time moves only through an explicit ``tick(at:)``, which processes every
/// deadline at or before it; a command (``handle(_:)``) runs at the time of the latest tick. Each returns
/// the effects for the shell to carry out, in order: persist, publish, kick, and the end of a session
/// (``Effect/sessionEnded(_:)``). The broker does no I/O, reads no clock and holds no locks; it is a value,
/// so a test can copy it, and the shell owns it on one executor.
///
/// Time is Unix milliseconds as the shell sees it, and never moves backwards: an older time is taken as the
/// latest one seen.
public struct Broker: Sendable {
    /// Keys of the deadline wheel: each live session and each reservation has at most one deadline.
    enum DeadlineKey: Hashable, Sendable {
        case session(SessionID)
        case reservation(ProjectID, UserID)
        /// A queued client's silence (`queue.clientTimeoutMs`).
        case queueClient(ProjectID, UserID)
        /// The next round of position pushes to queued clients.
        case queuePush
    }

    /// A project with its pool and the indexes that make every lookup O(1).
    struct ProjectState: Sendable {
        var project: Project
        var pool: SlotPool
        var reservations: [UserID: Reservation] = [:]
        var liveSessionByUser: [UserID: SessionID] = [:]
        var stateCounts: [SessionState: Int] = [:]
        /// The waiting queue.
        var queue = WaitingQueue()
        /// The lengths of the last ended sessions (for the queue's estimates).
        var lengths = SessionLengths()
    }

    /// The broker's own settings.
    public let configuration: BrokerConfiguration
    var projects: [ProjectID: ProjectState] = [:]
    var sessions: [SessionID: Session] = [:]
    var resumeIndex: [String: SessionID] = [:]
    var wheel: DeadlineWheel<DeadlineKey>
    var effects: [Effect] = []
    var pendingKicks: [Kick] = []
    /// Projects where a concurrency was freed (or added) since the queue was last served.
    var queueDirty: Set<ProjectID> = []
    /// The next slot of the queued clients' push round, and when it is due (Broker+QueueClients.swift).
    var queuePushSlot = 0
    var queuePushNextAt: Millis = 0
    /// The cursor of the last event emitted.
    public internal(set) var cursor: UInt64
    /// The latest time seen.
    public internal(set) var clock: Millis

    /// Creates an empty broker at `now`, whose next event gets cursor `cursor + 1`.
    public init(configuration: BrokerConfiguration = BrokerConfiguration(), now: Millis, cursor: UInt64 = 0) {
        self.configuration = configuration
        self.wheel = DeadlineWheel(now: now)
        self.cursor = cursor
        self.clock = now
    }

    /// Moves the broker's time to `now`, processing every deadline at or before it (``advance(to:heard:)``),
    /// and returns the effects. `heard` tells when the shell last heard from a connection it watches
    /// (``BrokerConfiguration/shellWatchedTransports``): such a connection's heartbeat deadline, when due, is
    /// checked against it and moved rather than expired if the connection was heard from since.
    public mutating func tick(at now: Millis, heard: (ConnectionID) -> Millis? = { _ in nil }) -> [Effect] {
        advance(to: now, heard: heard)
        return takeEffects()
    }

    /// Runs one command at the broker's time (the latest ``tick(at:)``) and returns its reply and effects. A
    /// refused command throws and changes nothing.
    public mutating func handle(_ command: Command) throws(BrokerError) -> (reply: Reply, effects: [Effect]) {
        let reply = try run(command)
        return (reply, takeEffects())
    }

    private mutating func run(_ command: Command) throws(BrokerError) -> Reply {
        defer {
            serveQueues()
            flushKicks()
        }
        switch command {
        case .createProject(let id, let name, let policy):
            return .project(try createProject(id: id, name: name, policy: policy))
        case .updateProject(let id, let patch):
            return .project(try updateProject(id, patch))
        case .deleteProject(let id):
            return .project(try deleteProject(id))
        case .apply(let projectId, let userId, let userIp):
            return .applied(try apply(projectId, userId: userId, userIp: userIp))
        case .applyQueued(let projectId, let userId, let userIp, let priority, let ticketId):
            return try applyQueued(projectId, userId: userId, userIp: userIp, priority: priority, ticketId: ticketId)
        case .cancelTicket(let projectId, let userId):
            return .ticket(try cancelTicket(projectId, userId))
        case .queueHello(let projectId, let ticketId, let connection, let origin):
            return .queued(try queueHello(projectId, ticketId, connection: connection, origin: origin))
        case .queueBye(let projectId, let userId, let connection):
            try queueBye(projectId, userId, connection: connection)
            return .none
        case .queueClientLost(let projectId, let userId, let connection, let lastSeenAt):
            queueClientLost(projectId, userId, connection: connection, lastSeenAt: lastSeenAt)
            return .none
        case .createSession(let projectId, let userId, let sessionId, let metadata):
            return .session(try createSession(projectId, userId: userId, sessionId: sessionId, metadata: metadata))
        case .destroySession(let id):
            return .session(try destroy(id))
        case .destroyUserSession(let projectId, let userId):
            guard let state = projects[projectId] else { throw .projectNotFound(projectId) }
            guard let id = state.liveSessionByUser[userId] else { throw .sessionNotFound("\(projectId)/\(userId)") }
            return .session(try destroy(id))
        case .hello(let id, let epoch, let connection, let transport, let hash, let origin):
            return .session(
                try hello(id, epoch: epoch, connection: connection, transport: transport, hash: hash, origin: origin))
        case .resume(let hash, let connection, let transport, let newHash, let origin):
            return .session(
                try resume(hash, connection: connection, transport: transport, newHash: newHash, origin: origin))
        case .heartbeat(let id, let connection):
            try heartbeat(id, connection: connection)
            return .none
        case .keepalive(let id, let connection):
            try heartbeat(id, connection: connection, endsSuspension: false)
            return .none
        case .suspend(let id, let connection, let expectedMs, let reason):
            return .session(try suspend(id, connection: connection, expectedMs: expectedMs, reason: reason))
        case .bye(let id, let connection):
            return .session(try bye(id, connection: connection))
        case .connectionLost(let id, let connection, let cause):
            connectionLost(id, connection: connection, cause: cause)
            return .none
        case .shutdown(let retryAfterMs, let rate):
            shutdown(retryAfterMs: retryAfterMs, paceRatePerSecond: rate)
            return .none
        }
    }

    /// Removes and returns the effects queued so far, in the order they must be carried out: after
    /// ``init(configuration:restoring:at:)``, the restart's own transitions.
    public mutating func takeEffects() -> [Effect] {
        defer { effects.removeAll(keepingCapacity: true) }
        return effects
    }

    /// When the shell should next call ``advance(to:)``: the next deadline, but never later than
    /// `tickMs` after the latest time seen while deadlines are armed (so stalls are measurable).
    /// `nil` when nothing is armed.
    public var nextWakeup: Millis? {
        guard let next = wheel.nextWakeup else { return nil }
        return min(next, clock + configuration.tickMs)
    }

    // MARK: - Queries

    /// A project.
    public func project(_ id: ProjectID) throws(BrokerError) -> Project {
        guard let state = projects[id] else { throw .projectNotFound(id) }
        return state.project
    }

    /// Every project, by id.
    public var allProjects: [Project] { projects.values.map(\.project).sorted { $0.id < $1.id } }

    /// A live session (ended sessions leave the broker; the store keeps them).
    public func session(_ id: SessionID) -> Session? { sessions[id] }

    /// The live sessions of a project, optionally in one state, by creation time.
    public func sessions(in projectId: ProjectID, state: SessionState? = nil) throws(BrokerError) -> [Session] {
        guard let ps = projects[projectId] else { throw .projectNotFound(projectId) }
        return ps.liveSessionByUser.values.compactMap { sessions[$0] }
            .filter { state == nil || $0.state == state }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Every live session.
    public var allSessions: [Session] { Array(sessions.values) }

    /// The live session of a user in a project.
    public func session(of userId: UserID, in projectId: ProjectID) -> Session? {
        projects[projectId]?.liveSessionByUser[userId].flatMap { sessions[$0] }
    }

    /// The reservation of a user in a project.
    public func reservation(of userId: UserID, in projectId: ProjectID) -> Reservation? {
        projects[projectId]?.reservations[userId]
    }

    /// Every reservation.
    public var allReservations: [Reservation] { projects.values.flatMap { $0.reservations.values } }

    /// DescribeConcurrentCount.
    public func count(_ projectId: ProjectID) throws(BrokerError) -> ConcurrencyCount {
        guard let ps = projects[projectId] else { throw .projectNotFound(projectId) }
        let total = ps.pool.total
        let idle = ps.pool.idleCount
        return ConcurrencyCount(
            total: total, idle: idle, reserved: ps.pool.reservedCount, running: total - idle,
            created: ps.stateCounts[.created, default: 0], connected: ps.stateCounts[.connected, default: 0],
            suspended: ps.stateCounts[.suspended, default: 0], grace: ps.stateCounts[.grace, default: 0])
    }

    /// The holder of every held slot of a project, by concurrency id (for invariant checks and tools).
    public func slotHolders(_ projectId: ProjectID) -> [ConcurrencyID: String] {
        guard let ps = projects[projectId] else { return [:] }
        var out: [ConcurrencyID: String] = [:]
        for (n, holder) in ps.pool.holders {
            switch holder {
            case .reservation(let user): out[ps.pool.id(of: n)] = "reservation:\(user)"
            case .session(let id): out[ps.pool.id(of: n)] = "session:\(id)"
            }
        }
        return out
    }

    /// How many deadlines are armed.
    public var armedDeadlines: Int { wheel.count }
}
