import TetherCore

/// Drives a broker with time as a plain number and keeps every effect it produced.
struct Harness {
    var broker: Broker
    var now: Millis
    var effects: [Effect] = []
    private var nextConnection: ConnectionID = 1
    private var nextSession = 1

    init(now: Millis = 1_000_000, configuration: BrokerConfiguration = BrokerConfiguration()) {
        self.now = now
        self.broker = Broker(configuration: configuration, now: now)
    }

    /// Runs a command at the current time.
    @discardableResult
    mutating func run(_ command: Command) throws(BrokerError) -> Reply {
        effects += broker.tick(at: now)
        let (reply, produced) = try broker.handle(command)
        effects += produced
        return reply
    }

    /// Moves time forward by `ms` in ticks no longer than the broker's tick (no stall).
    mutating func pass(_ ms: Millis) {
        let end = now + ms
        while now < end {
            now = min(end, now + broker.configuration.tickMs)
            effects += broker.tick(at: now)
        }
    }

    /// Jumps time forward in one step (a stall when longer than the threshold).
    mutating func jump(_ ms: Millis) {
        now += ms
        effects += broker.tick(at: now)
    }

    mutating func newConnection() -> ConnectionID {
        defer { nextConnection += 1 }
        return nextConnection
    }

    @discardableResult
    mutating func project(
        _ id: ProjectID = "p", capacity: Int = 2, grace: Millis = 90_000, interval: Millis = 5_000,
        timeout: Millis = 15_000, reservationTtl: Millis = 30_000, connectTimeout: Millis = 60_000,
        maxSuspend: Millis = 300_000
    ) throws(BrokerError) -> Project {
        let policy = Policy(
            capacity: capacity, heartbeat: .init(intervalMs: interval, timeoutMs: timeout), reconnectGraceMs: grace,
            reservationTtlMs: reservationTtl, connectTimeoutMs: connectTimeout, maxSuspendMs: maxSuspend)
        guard case .project(let p) = try run(.createProject(id: id, name: id, policy: policy)) else { fatalError() }
        return p
    }

    mutating func apply(_ user: UserID, in project: ProjectID = "p") throws(BrokerError) -> Applied {
        guard case .applied(let a) = try run(.apply(project, userId: user, userIp: nil)) else { fatalError() }
        return a
    }

    mutating func create(_ user: UserID, in project: ProjectID = "p") throws(BrokerError) -> Session {
        let id = "s\(nextSession)"
        nextSession += 1
        guard case .session(let s) = try run(.createSession(project, userId: user, sessionId: id, metadata: .init()))
        else { fatalError() }
        return s
    }

    /// Connects a client with the session's current token epoch; returns the connection.
    mutating func hello(_ s: Session, epoch: UInt64? = nil, transport: Transport = .websocket) throws(BrokerError)
        -> ConnectionID
    {
        let c = newConnection()
        try run(.hello(s.id, epoch: epoch ?? s.epoch, connection: c, transport: transport, resumeTokenHash: "rt\(c)"))
        return c
    }

    /// apply + create + hello for a user.
    mutating func connected(_ user: UserID, in project: ProjectID = "p") throws(BrokerError) -> (Session, ConnectionID)
    {
        _ = try apply(user, in: project)
        let s = try create(user, in: project)
        let c = try hello(s)
        return (broker.session(s.id)!, c)
    }

    mutating func heartbeat(_ s: Session, _ c: ConnectionID) throws(BrokerError) {
        try run(.heartbeat(s.id, connection: c))
    }

    func state(_ id: SessionID) -> SessionState? { broker.session(id)?.state }

    var events: [Event] {
        effects.compactMap { if case .event(let e) = $0 { e } else { nil } }
    }

    var kicks: [Kick] {
        effects.compactMap { if case .kick(let k) = $0 { k } else { nil } }
    }

    /// The saved final record of a session that ended.
    func ended(_ id: SessionID) -> Session? {
        effects.reversed().lazy.compactMap { effect -> Session? in
            if case .saveSession(let s) = effect, s.id == id, s.state == .ended { s } else { nil }
        }.first
    }

    func events(of id: SessionID) -> [EventType] {
        events.filter { $0.sessionId == id && $0.type.rawValue.hasPrefix("session.") }.map(\.type)
    }

    mutating func clearEffects() { effects.removeAll() }
}
