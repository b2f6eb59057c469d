import TetherCore
import TetherProtocol

/// The client protocol of one WebSocket or TCP connection as a pure value: hello within its deadline,
/// welcome once the hello is durable, heartbeats (any inbound frame), server pings to quiet clients,
/// suspend, bye, kicks, what each refusal means as a kick and a close code, and the per-connection rate
/// limit. Every input comes with the time and returns ``ConnectionActions`` for an executor
/// (``ClientLink``) to carry out, as `SWIM.Instance` returns directives to `SWIMNIOShell`: it reads no clock,
/// holds no lock, does no I/O, and is tested without a socket.
struct ConnectionMachine: Sendable {
    /// Where the connection is in the protocol.
    enum Phase: Sendable, Hashable {
        /// Opened; a `hello` must come before ``ConnectionMachine/helloDeadline``.
        case awaitingHello
        /// The hello is being checked and submitted; frames that race it are ignored.
        case helloPending
        /// The broker accepted the hello: the connection carries `session`.
        case attached(SessionID)
        /// The broker accepted a `hello {queueToken}`: the connection is the live client of `user`'s ticket.
        case queued(ProjectID, UserID)
        /// The broker no longer knows this connection; its kick (with the real reason) is on the way.
        case draining(fallback: KickReason)
        /// Done with: nothing more is read or sent.
        case closed
    }

    /// The limits of one connection.
    struct Settings: Sendable, Hashable {
        /// A connection must say hello within this.
        var helloTimeoutMs: Millis = 10_000
        /// Average inbound messages per second allowed.
        var messagesPerSecond: Double = 50
        /// Burst of inbound messages allowed.
        var messageBurst: Double = 100
        /// How long a connection whose command the broker refused waits for the broker's kick before it closes
        /// with its fallback reason.
        var drainMs: Millis = 1_000
        /// Whether the connection's heartbeats are recorded on its link rather than sent to the broker
        /// (``BrokerConfiguration/shellWatchedTransports``): then a heartbeat is `seen` (two atomic stores) and
        /// only a suspension's end reaches the broker, which checks the record when the deadline falls due.
        var watchesLiveness = false
    }

    /// What checking a `hello`'s credential gave (``ConnectionAction/authenticate(_:)``).
    enum Authentication: Sendable, Hashable {
        /// A genuine, unexpired client token for (`session`, `epoch`).
        case token(session: SessionID, epoch: UInt64)
        /// A resume token, by its hash.
        case resume(tokenHash: String)
        /// A genuine, unexpired queue token for a ticket of a project.
        case queue(project: ProjectID, ticket: TicketID)
        /// A client token that does not verify (forged, tampered, expired, empty).
        case invalid
    }

    var connection: ConnectionID
    let transport: Transport
    let settings: Settings
    /// The `Origin` header of the WebSocket upgrade or HTTP heartbeat (`nil`: none, or TCP); the broker checks
    /// it against the project's `allowedOrigins` at hello.
    let origin: String?
    /// Set only by the machine (its HTTP inputs live in ConnectionMachine+HTTP.swift).
    var phase = Phase.awaitingHello
    /// When the hello deadline passes.
    let helloDeadline: Millis
    /// The last inbound frame (the heartbeat the server pings by).
    private(set) var lastInbound: Millis
    private var limiter: RateLimiter
    private var lastSeq: UInt64?
    /// The resume token the pending hello's welcome will carry.
    private var nextResumeToken: String?
    /// The welcome waiting for the hello's commit, boxed: every connection keeps this field for its life,
    /// the welcome (~110 bytes inline) only for a commit's time.
    private var pendingWelcome = OutOfLine<ServerMessage.Welcome>()
    private(set) var welcomed = false
    private var intervalMs: Millis = 5_000
    private var lastPingAt: Millis = 0
    private var pingSeq: UInt64 = 0
    private var pingsInFlight: [UInt64: Millis] = [:]
    /// The session's heartbeat timeout, or a queued client's `queue.clientTimeoutMs` (for the deadline
    /// recorded on the link).
    var timeoutMs: Millis = 15_000
    /// Whether a declared suspension is on: the broker times it, and the next message ends it.
    private(set) var suspended = false
    /// HTTP: the (session, epoch) of the client token this virtual connection belongs to.
    var httpToken: (session: SessionID, epoch: UInt64)? { http.token }
    /// HTTP: the `Origin` of the request that attached the virtual connection (later ones must carry the same).
    var httpOrigin: String? {
        get { http.origin }
        set { http.origin = newValue }
    }
    /// HTTP: the reason of the last kick, told to the client's next heartbeat.
    var httpKicked: KickReason? {
        get { http.kicked }
        set { http.kicked = newValue }
    }
    /// HTTP: the ticket of the queue token this virtual connection belongs to, and the broker's last word
    /// (ConnectionMachine+HTTPQueue.swift).
    var httpQueue: HTTPQueueWait? {
        get { http.queue }
        set { http.queue = newValue }
    }

    /// What only an HTTP client's virtual connection keeps, boxed: a WebSocket or TCP connection keeps
    /// 8 bytes for it, not ~60.
    private struct HTTPFields: Sendable {
        var token: (session: SessionID, epoch: UInt64)?
        var origin: String?
        var kicked: KickReason?
        var queue: HTTPQueueWait?
    }

    private var httpStored = OutOfLine<HTTPFields>()

    private var http: HTTPFields {
        get { httpStored.value ?? HTTPFields() }
        set { httpStored.value = newValue }
    }

    init(
        connection: ConnectionID, transport: Transport, settings: Settings = Settings(), now: Millis,
        httpToken: (session: SessionID, epoch: UInt64)? = nil, origin: String? = nil
    ) {
        if let httpToken { self.httpStored = OutOfLine(HTTPFields(token: httpToken)) }
        self.origin = origin
        self.connection = connection
        self.transport = transport
        self.settings = settings
        self.helloDeadline = now + settings.helloTimeoutMs
        self.lastInbound = now
        self.limiter = RateLimiter(rate: settings.messagesPerSecond, burst: settings.messageBurst)
    }

    /// Forgets the client's last `seq` (a new attachment starts counting again).
    mutating func lastSeqReset() { lastSeq = nil }

    /// The client's last `seq`, which `seq` replaces.
    mutating func httpLastSeq(replacingWith seq: UInt64) -> UInt64? {
        defer { lastSeq = seq }
        return lastSeq
    }

    /// The session the connection carries, while attached.
    var attachedSession: SessionID? {
        if case .attached(let id) = phase { return id }
        return nil
    }

    var isClosed: Bool { phase == .closed }

    /// How often the ping sweeper should look at this connection.
    var sweepEveryMs: Millis { max(intervalMs / 8, 25) }

    // MARK: - Inbound

    /// A frame arrived: a decoded message, or why it could not be decoded.
    mutating func received(_ result: Result<ClientMessage, ProtocolError>, at now: Millis) -> ConnectionActions {
        var actions = ConnectionActions()
        guard inbound(at: now, &actions) else { return actions }
        let message: ClientMessage
        switch result {
        case .success(let m): message = m
        case .failure(let error):
            actions.append(contentsOf: fail(error.closeCode, error.reason))
            return actions
        }
        switch phase {
        case .awaitingHello:
            guard case .hello(let credential) = message else {
                actions.append(contentsOf: fail(ProtocolError.helloFirst.closeCode, ProtocolError.helloFirst.reason))
                return actions
            }
            phase = .helloPending
            actions.append(.cancelHelloTimer)
            actions.append(.pace(credential))
        case .helloPending, .draining, .closed:
            break  // frames racing the welcome (the hello itself counts) or the kick
        case .attached(let session):
            actions.append(contentsOf: attached(session, message, at: now))
        case .queued(let project, let user):
            actions.append(contentsOf: queued(project, user, message, at: now))
        }
        return actions
    }

    /// A transport-level frame (a WebSocket ping or pong) that counts as a heartbeat.
    mutating func controlFrame(at now: Millis) -> ConnectionActions {
        var actions = ConnectionActions()
        guard inbound(at: now, &actions), case .attached(let session) = phase else { return actions }
        // A watched connection was kept alive by the inbound frame itself (`seen`).
        if !settings.watchesLiveness {
            actions.append(.heartbeat(session, connection: connection, endsSuspension: false))
        }
        return actions
    }

    /// The answer to a server ping.
    mutating func pingAnswered(seq: UInt64, at now: Millis) -> ConnectionActions {
        guard let sent = pingsInFlight.removeValue(forKey: seq) else { return ConnectionActions() }
        return ConnectionActions(.rtt(Double(now - sent)))
    }

    /// Counts an inbound frame against the rate limit; `false` when the frame is not to be read.
    private mutating func inbound(at now: Millis, _ actions: inout ConnectionActions) -> Bool {
        guard phase != .closed else { return false }
        lastInbound = now
        guard limiter.allow(at: now) else {
            actions.append(contentsOf: fail(ProtocolError.rateLimited.closeCode, ProtocolError.rateLimited.reason))
            return false
        }
        actions.append(.countInbound)
        // Before the welcome the connection waits on the server (`awaitWelcome`): nothing it sends moves that.
        if settings.watchesLiveness, !suspended, welcomed, case .attached = phase {
            actions.append(.seen(at: now, until: now + timeoutMs))
        }
        // A queued client's silence is always timed from its link's record (`queue.clientTimeoutMs`).
        if case .queued = phase { actions.append(.seen(at: now, until: now + timeoutMs)) }
        return true
    }

    /// A message of a queued client: pings are answered, `bye` takes the ticket out of the queue.
    private mutating func queued(_ project: ProjectID, _ user: UserID, _ message: ClientMessage, at now: Millis)
        -> ConnectionActions
    {
        switch message {
        case .hello:
            return fail(.protocolError, "hello was already accepted")
        case .ping(let seq, let t):
            return ConnectionActions(.pong(seq: seq, t: t, st: now))
        case .pong(let seq, _):
            return pingAnswered(seq: seq, at: now)
        case .suspend:
            return fail(.protocolError, "a queued client cannot suspend: it leaves with bye, or stays silent")
        case .bye:
            var actions = ConnectionActions(.submit(.queueBye(project, user, connection: connection)))
            actions.append(contentsOf: finish())
            actions.append(.send(.kick(reason: KickReason.left.rawValue, retryAfterMs: nil)))
            actions.append(.close(.normal, reason: KickReason.left.rawValue))
            return actions
        }
    }

    /// The broker accepted a `hello {queueToken}`: the client is told its place (or its offer) at once and
    /// heartbeats like a session's; its silence is timed by `queue.clientTimeoutMs`.
    mutating func queueAccepted(_ place: QueuePlace, policy: Policy, at now: Millis) -> ConnectionActions {
        guard phase == .helloPending else { return ConnectionActions() }
        phase = .queued(place.ticket.projectId, place.ticket.userId)
        // Server pings come often enough for a client that only answers them, whatever the two settings.
        intervalMs = min(policy.heartbeat.intervalMs, max(policy.queue.clientTimeoutMs / 3, 100))
        timeoutMs = policy.queue.clientTimeoutMs
        return ConnectionActions(
            .watch(at: now, until: now + timeoutMs), .send(Self.firstMessage(place)), .startPinging)
    }

    /// The broker tells the queued client its place or its offer.
    mutating func noticed(_ notice: QueueNotice) -> ConnectionActions {
        guard case .queued = phase else { return ConnectionActions() }
        let message: ServerMessage =
            switch notice.kind {
            case .place(let position, let etaMs): .queued(ticketId: notice.ticketId, position: position, etaMs: etaMs)
            case .offered(let concurrencyId, let reservedUntil):
                .offered(concurrencyId: concurrencyId, reservedUntil: reservedUntil)
            }
        if httpQueue != nil { return httpQueueNoticed(message) }
        return ConnectionActions(.send(message))
    }

    /// The ticket the connection waits for, while queued.
    private var queuedTicket: (project: ProjectID, user: UserID)? {
        if case .queued(let project, let user) = phase { return (project, user) }
        return nil
    }

    private mutating func attached(_ session: SessionID, _ message: ClientMessage, at now: Millis)
        -> ConnectionActions
    {
        switch message {
        case .hello:
            return fail(.protocolError, "hello was already accepted")
        case .ping(let seq, let t):
            var actions = ConnectionActions(.clientSeq(seq, previous: lastSeq))
            lastSeq = seq
            if !settings.watchesLiveness {
                actions.append(.heartbeat(session, connection: connection, endsSuspension: true))
            } else if suspended {
                // Back from a declared suspension: the broker ends it, and the loop watches again.
                suspended = false
                actions.append(.heartbeat(session, connection: connection, endsSuspension: true))
                actions.append(.watch(at: now, until: now + timeoutMs))
            }
            if welcomed { actions.append(.pong(seq: seq, t: t, st: now)) }
            return actions
        case .pong(let seq, _):
            var actions = pingAnswered(seq: seq, at: now)
            if !settings.watchesLiveness {
                actions.append(.heartbeat(session, connection: connection, endsSuspension: false))
            }
            return actions
        case .suspend(let expectedMs, let reason):
            guard let reason = SuspendReason(rawValue: reason) else {
                return fail(.protocolError, "unknown suspend reason")
            }
            var actions = ConnectionActions(
                .submit(.suspend(session, connection: connection, expectedMs: expectedMs, reason: reason)))
            if settings.watchesLiveness {
                suspended = true
                actions.append(.unwatch)
            }
            return actions
        case .bye:
            // Closed here at once, so that frames racing the broker's kick cannot change its reason.
            var actions = ConnectionActions(.submit(.bye(session, connection: connection)))
            actions.append(contentsOf: finish())
            actions.append(.send(.kick(reason: KickReason.left.rawValue, retryAfterMs: nil)))
            actions.append(.close(.normal, reason: KickReason.left.rawValue))
            return actions
        }
    }

    // MARK: - Hello

    /// The server's hello pacer answered: go on and check the credential (`retryAfterMs` nil), or tell the
    /// client to come back later (kick `busy` with `retryAfterMs`, close 1013); no session is touched.
    mutating func paced(_ retryAfterMs: Millis?, credential: ClientMessage.Credential, at now: Millis)
        -> ConnectionActions
    {
        guard phase == .helloPending else { return ConnectionActions() }
        guard let retryAfterMs else { return ConnectionActions(.authenticate(credential)) }
        return refuse(.busy, retryAfterMs: retryAfterMs)
    }

    /// What checking the hello's credential gave, with the resume token its welcome will carry (and that
    /// token's hash).
    mutating func authenticated(
        _ authentication: Authentication, newResumeToken: String, newResumeTokenHash: String, at now: Millis
    ) -> ConnectionActions {
        guard phase == .helloPending else { return ConnectionActions() }
        let command: Command
        switch authentication {
        case .invalid:
            return refuse(.badToken)
        case .token(let session, let epoch):
            command = .hello(
                session, epoch: epoch, connection: connection, transport: transport,
                resumeTokenHash: newResumeTokenHash, origin: origin)
        case .resume(let tokenHash):
            command = .resume(
                resumeTokenHash: tokenHash, connection: connection, transport: transport,
                newResumeTokenHash: newResumeTokenHash, origin: origin)
        case .queue(let project, let ticket):
            return ConnectionActions(
                .register, .submit(.queueHello(project, ticket, connection: connection, origin: origin)))
        }
        nextResumeToken = newResumeToken
        return ConnectionActions(.register, .submit(command))
    }

    /// The broker accepted the hello: the connection carries `session` under `policy`. The welcome waits
    /// until the transition is durable (``durable(_:at:)``), since it acknowledges the connection (HTTP has
    /// no welcome: the heartbeat's own answer follows); it names the cluster's other live nodes, `alternates`.
    mutating func helloAccepted(
        _ session: Session, policy: Policy, alternates: [ServerMessage.Connect] = [], at now: Millis
    ) -> ConnectionActions {
        guard phase == .helloPending else { return ConnectionActions() }
        phase = .attached(session.id)
        if transport == .http { return ConnectionActions() }
        lastSeq = nil
        intervalMs = policy.heartbeat.intervalMs
        timeoutMs = policy.heartbeat.timeoutMs
        pendingWelcome.value = ServerMessage.Welcome(
            sessionId: session.id, epoch: session.epoch, concurrencyId: session.concurrencyId,
            heartbeat: .init(intervalMs: policy.heartbeat.intervalMs, timeoutMs: policy.heartbeat.timeoutMs),
            serverTime: now, resumeToken: nextResumeToken ?? "", reconnectGraceMs: policy.reconnectGraceMs,
            alternates: alternates)
        nextResumeToken = nil
        return settings.watchesLiveness ? ConnectionActions(.awaitWelcome) : ConnectionActions()
    }

    /// The hello's transition was committed (`ok`) or the store failed.
    mutating func durable(_ ok: Bool, at now: Millis) -> ConnectionActions {
        guard case .attached = phase, let welcome = pendingWelcome.value else { return ConnectionActions() }
        pendingWelcome.value = nil
        guard ok else { return fail(CloseCode(rawValue: 1011), "store unavailable") }
        welcomed = true
        // The heartbeat window starts with the welcome: a slow commit is the server's delay, not the client's.
        if settings.watchesLiveness {
            return ConnectionActions(.watch(at: now, until: now + timeoutMs), .send(.welcome(welcome)), .startPinging)
        }
        return ConnectionActions(.send(.welcome(welcome)), .startPinging)
    }

    /// The broker refused a submitted command.
    mutating func refused(_ error: BrokerError, at now: Millis) -> ConnectionActions {
        if httpQueue != nil { return httpQueueRefused(error) }
        if transport == .http { return httpRefused(error) }
        if case .stopping(let retryAfterMs) = error {
            // Not the session's end: the shutdown keeps it in grace for the restarted server (its own kick,
            // with a paced `retryAfterMs`, is on the way to an attached connection).
            if case .attached = phase { return drain(fallback: .shutdown) }
            if case .helloPending = phase { return refuse(.shutdown, retryAfterMs: retryAfterMs) }
        }
        switch phase {
        case .helloPending:
            // A genuine token whose session is gone: it ended. Anything else: the credential is no good.
            if case .sessionNotFound = error { return refuse(.expired) }
            if case .originNotAllowed = error { return refuse(.originNotAllowed) }
            return refuse(.badToken)
        case .attached:
            switch error {
            case .invalidParameter(let field, let message):
                return fail(.protocolError, "\(field): \(message)")
            case .fenced:
                return drain(fallback: .replaced)
            default:
                return drain(fallback: .expired)
            }
        case .queued:
            return refuse(.expired)  // its ticket left (its kick says why, if it is still on the way)
        case .awaitingHello, .draining, .closed:
            return ConnectionActions()
        }
    }

    /// A command raced the broker's kick (destroy, replacement, expiry): the kick carries the real reason and
    /// comes within microseconds; if it does not come within ``Settings/drainMs``, close with `fallback`.
    private mutating func drain(fallback: KickReason) -> ConnectionActions {
        phase = .draining(fallback: fallback)
        var actions = ConnectionActions(.stopPinging, .scheduleDrain(settings.drainMs))
        if settings.watchesLiveness { actions.append(.unwatch) }
        return actions
    }

    /// The drain wait is over.
    mutating func drainExpired(at now: Millis) -> ConnectionActions {
        guard case .draining(let fallback) = phase else { return ConnectionActions() }
        return refuse(fallback)
    }

    /// The hello deadline passed.
    mutating func helloExpired(at now: Millis) -> ConnectionActions {
        guard phase == .awaitingHello else { return ConnectionActions() }
        return fail(.noHello, "no hello within \(settings.helloTimeoutMs) ms")
    }

    // MARK: - Server pings

    /// Pings a client that has been quiet for half an interval, so a client that only answers pings is heard
    /// from every half interval (the timeout is at least two intervals). While a ping is unanswered, the next
    /// goes out an interval later, not sooner: a client that died gets a few pings before its timeout instead
    /// of one every sweep, and a lost ping is still retried before the timeout.
    mutating func sweep(at now: Millis) -> ConnectionActions {
        guard phase.isServed, now - lastInbound >= max(intervalMs / 2, 50),
            lastPingAt <= lastInbound || now - lastPingAt >= intervalMs
        else { return ConnectionActions() }
        lastPingAt = now
        pingSeq += 1
        if pingsInFlight.count > 16 { pingsInFlight.removeAll() }
        pingsInFlight[pingSeq] = now
        return ConnectionActions(.ping(seq: pingSeq))
    }

    // MARK: - Closing

    /// The broker's kick: tell the client why, then close (the broker already detached the session). An HTTP
    /// client is told at its next heartbeat.
    mutating func kicked(_ kick: Kick) -> ConnectionActions {
        if transport == .http {
            httpKicked = kick.reason
            phase = .awaitingHello
            return ConnectionActions()
        }
        guard phase != .closed else { return ConnectionActions() }
        var actions = finish()
        actions.append(.send(.kick(reason: kick.reason.rawValue, retryAfterMs: kick.retryAfterMs)))
        actions.append(.close(CloseCode.forKick(kick.reason.rawValue), reason: kick.reason.rawValue))
        return actions
    }

    /// The peer went away (read of 0, FIN, RST, a failed write): the session goes to grace at once.
    mutating func peerClosed(cause: DisconnectCause) -> ConnectionActions {
        let session = attachedSession
        let ticket = queuedTicket
        var actions = finish()
        if let session { actions.append(.lost(session, cause)) }
        if let ticket { actions.append(.queueLost(ticket.project, ticket.user, lastSeenAt: lastInbound)) }
        return actions
    }

    /// A kick decided here (bad token, a stale connection): the session, if any, goes to grace with cause
    /// `error`.
    private mutating func refuse(_ reason: KickReason, retryAfterMs: Millis? = nil) -> ConnectionActions {
        let session = attachedSession
        let ticket = queuedTicket
        let code = CloseCode.forKick(reason.rawValue)
        var actions = ConnectionActions(.logRefusal(session: session, reason: reason.rawValue, closeCode: code))
        actions.append(contentsOf: finish())
        if let session { actions.append(.lost(session, .error)) }
        if let ticket { actions.append(.queueLost(ticket.project, ticket.user, lastSeenAt: lastInbound)) }
        actions.append(.send(.kick(reason: reason.rawValue, retryAfterMs: retryAfterMs)))
        actions.append(.close(code, reason: reason.rawValue))
        return actions
    }

    /// A protocol violation: close with its code; the session (if any) goes to grace with cause `error`. A TCP
    /// client, which has no close frame, is told the code's name in a `kick` first.
    private mutating func fail(_ code: CloseCode, _ reason: String) -> ConnectionActions {
        let session = attachedSession
        let ticket = queuedTicket
        var actions = ConnectionActions(.logRefusal(session: session, reason: reason, closeCode: code))
        actions.append(contentsOf: finish())
        if let session { actions.append(.lost(session, .error)) }
        if let ticket { actions.append(.queueLost(ticket.project, ticket.user, lastSeenAt: lastInbound)) }
        if transport == .tcp { actions.append(.send(.kick(reason: code.name, retryAfterMs: nil))) }
        actions.append(.close(code, reason: reason))
        return actions
    }

    private mutating func finish() -> ConnectionActions {
        let wasQueued = queuedTicket != nil
        phase = .closed
        pendingWelcome.value = nil
        var actions = ConnectionActions(.cancelHelloTimer, .stopPinging, .unregister)
        if settings.watchesLiveness || wasQueued { actions.append(.unwatch) }
        return actions
    }
}

extension ConnectionMachine.Phase {
    /// Whether the connection is a served client (a session's or a queued one's): pinged when quiet.
    var isServed: Bool {
        switch self {
        case .attached, .queued: true
        case .awaitingHello, .helloPending, .draining, .closed: false
        }
    }
}

extension CloseCode {
    /// The name used as a TCP kick reason for closes that are not broker kicks.
    var name: String {
        switch self {
        case .messageTooBig: "tooLarge"
        case .noHello: "noHello"
        case .rateLimited: "rateLimited"
        default: "protocolError"
        }
    }
}
