import Logging
import NIOCore
import Synchronization
import TetherCore
import TetherProtocol
import TetherStore

/// What a transport's channel handler offers its link. Called on the channel's event loop only.
protocol ClientSink: AnyObject {
    /// Sends one message.
    func send(_ message: ServerMessage)
    /// Sends a server ping (a WebSocket ping frame, or a TCP `ping` message) carrying `seq`.
    func sendPing(seq: UInt64, at now: Millis)
    /// Closes the connection with a code and a reason (a WebSocket close frame; TCP just closes).
    func close(code: CloseCode, reason: String)
}

/// The executor of one WebSocket or TCP connection's ``ConnectionMachine``: it feeds the machine what the
/// transport and the broker say, with the time, and carries out the actions it returns (broker commands,
/// messages, pings, closes, timers, stats). It holds no rule.
///
/// Confined to its channel's event loop: every method but ``kick(_:)`` is called there, and ``kick(_:)``
/// hops there. Broker commands run synchronously on the loop (``BrokerService/submit(_:)``).
final class ClientLink: Kickable, PingSweepable, LivenessReporting, @unchecked Sendable {
    let id: ConnectionID
    let transport: Transport
    let eventLoop: any EventLoop
    private let plane: ClientPlaneContext
    /// The connection's handler, held strongly until ``detach()`` (its handler calls it when it leaves the
    /// pipeline): a weak reference gives the handler a side table, and then every retain and release of it,
    /// on every read, takes the runtime's slow path (2-3 % of a heartbeat's samples in `perf`).
    private var sink: (any ClientSink)?
    private var machine: ConnectionMachine
    private var stats: SessionStats?
    private var helloTimer: Scheduled<Void>?
    private var sweeper: PingSweeper?
    /// The last time the connection was heard from and its deadline, while its heartbeats are recorded here
    /// (0: not recorded); read by the broker's timer (a due deadline) and the API, from other threads.
    private let heardRecord = HeardRecord()
    var sweepSlot = -1

    /// `origin`: the WebSocket upgrade's `Origin` header (checked at hello against the project's
    /// `allowedOrigins`).
    init(
        transport: Transport, eventLoop: any EventLoop, plane: ClientPlaneContext, sink: any ClientSink,
        origin: String? = nil
    ) {
        let id = plane.registry.makeID()
        self.id = id
        self.transport = transport
        self.eventLoop = eventLoop
        self.plane = plane
        self.sink = sink
        self.machine = ConnectionMachine(
            connection: id, transport: transport,
            settings: .init(
                helloTimeoutMs: plane.helloTimeoutMs, messagesPerSecond: plane.messagesPerSecond,
                messageBurst: plane.messageBurst, watchesLiveness: plane.watchedTransports.contains(transport)),
            now: plane.time.now(), origin: origin)
    }

    /// Forgets the handler (it has left its pipeline): what the link does after this writes nothing.
    func detach() { sink = nil }

    /// The machine's phase (for tests and logs).
    var phase: ConnectionMachine.Phase { machine.phase }

    /// Starts the hello deadline.
    func start() {
        helloTimer = eventLoop.scheduleTask(in: .milliseconds(plane.helloTimeoutMs)) { [self] in
            execute(machine.helloExpired(at: plane.time.now()))
        }
    }

    // MARK: - Inputs

    /// A decoded (or undecodable) message.
    func receive(_ result: Result<ClientMessage, ProtocolError>) {
        execute(machine.received(result, at: plane.time.now()))
    }

    /// A transport-level frame (WebSocket ping or pong) that counts as a heartbeat.
    func controlFrame() {
        execute(machine.controlFrame(at: plane.time.now()))
    }

    /// The answer to a server ping.
    func pingAnswered(seq: UInt64) {
        execute(machine.pingAnswered(seq: seq, at: plane.time.now()))
    }

    /// Looked at every eighth of an interval.
    var sweepEveryMs: Millis { machine.sweepEveryMs }

    /// Pings the client when the machine says it is due.
    func sweep(at now: Millis) -> Bool {
        let actions = machine.sweep(at: now)
        guard !actions.isEmpty else { return false }
        execute(actions)
        return true
    }

    /// The broker's kick: tell the client why, then close (the broker already detached the session).
    func kick(_ kick: Kick) {
        eventLoop.execute { [self] in
            plane.logger.debug(
                "client kicked",
                metadata: [
                    "connection": "\(id)", "reason": "\(kick.reason.rawValue)", "phase": "\(machine.phase)",
                    "sink": "\(sink == nil ? "none" : "attached")",
                ])
            execute(machine.kicked(kick))
        }
    }

    /// The broker's word to a queued client: its place or its offer.
    func notify(_ notice: QueueNotice) {
        eventLoop.execute { [self] in execute(machine.noticed(notice)) }
    }

    /// The peer went away (read of 0, FIN, RST, a failed write): the session goes to grace at once.
    func peerClosed(cause: DisconnectCause) {
        execute(machine.peerClosed(cause: cause))
    }

    // MARK: - Carrying out

    /// Carries out `actions` in order; a refused ``ConnectionAction/submit(_:)`` replaces the rest with what
    /// the machine says of the refusal.
    private func execute(_ actions: ConnectionActions) {
        for index in 0..<actions.count {
            switch actions[index] {
            case .countInbound:
                stats?.heartbeat()
                TetherMetrics.heartbeat(transport)
            case .clientSeq(let seq, let previous):
                stats?.clientSeq(seq, previous: previous)
            case .rtt(let ms):
                stats?.pingAnswered(rttMs: ms)
                TetherMetrics.rtt(ms: ms)
            case .pace(let credential):
                let now = plane.time.now()
                execute(machine.paced(plane.hellos.admit(at: now), credential: credential, at: now))
            case .authenticate(let credential):
                execute(authenticate(credential))
            case .register:
                plane.registry.register(id, self)
            case .submit(let command):
                guard submit(command) else { return }
            case .heartbeat(let session, let connection, let endsSuspension):
                let command: Command =
                    endsSuspension
                    ? .heartbeat(session, connection: connection) : .keepalive(session, connection: connection)
                guard submit(command) else { return }
            case .send(let message):
                sink?.send(message)
            case .pong(let seq, let t, let st):
                sink?.send(.pong(seq: seq, t: t, st: st))
            case .ping(let seq):
                stats?.pingSent()
                sink?.send(ping: seq, at: plane.time.now())
            case .close(let code, let reason):
                sink?.close(code: code, reason: reason)
            case .lost(let session, let cause):
                plane.lost(session, connection: id, cause: cause)
            case .queueLost(let project, let user, let lastSeenAt):
                _ = try? plane.service.submit(
                    .queueClientLost(project, user, connection: id, lastSeenAt: lastSeenAt))
            case .startPinging:
                let sweeper = plane.sweepers.sweeper(for: eventLoop)
                self.sweeper = sweeper
                sweeper.add(self)
            case .stopPinging:
                sweeper?.remove(self)
            case .watch(let at, let deadline), .seen(let at, let deadline):
                heard(at: at, until: deadline)
            case .awaitWelcome:
                heard(at: ClientLink.awaitingWelcome, until: ClientLink.awaitingWelcome)
            case .unwatch:
                heard(at: 0, until: 0)
            case .scheduleDrain(let ms):
                eventLoop.scheduleTask(in: .milliseconds(ms)) { [self] in
                    execute(machine.drainExpired(at: plane.time.now()))
                }
            case .cancelHelloTimer:
                helloTimer?.cancel()
                helloTimer = nil  // its promise and future would otherwise live as long as the connection
            case .unregister:
                plane.registry.unregister(id)
            case .logRefusal(let session, let reason, let code):
                plane.logger.debug(
                    "client connection refused or failed",
                    metadata: [
                        "sessionId": "\(session ?? "-")", "transport": "\(transport.rawValue)",
                        "closeCode": "\(code.rawValue)", "reason": "\(reason)",
                    ])
            case .attach, .answer, .forget:
                break  // HTTP only
            }
        }
    }

    private func heard(at: Millis, until: Millis) { heardRecord.record(at: at, until: until) }

    /// What ``liveness`` reports while the welcome is pending: later than any time, which the broker reads as
    /// "heard from now" (`Broker.tick(at:heard:)`).
    static let awaitingWelcome = Millis.max

    /// When the connection was last heard from and its heartbeat deadline, while recorded here.
    var liveness: (lastSeenAt: Millis, deadlineAt: Millis)? { heardRecord.liveness }

    /// Checks a hello's credential: the machine decides what it means.
    private func authenticate(_ credential: ClientMessage.Credential) -> ConnectionActions {
        let authentication: ConnectionMachine.Authentication
        switch credential {
        case .token(let token):
            if let claims = plane.signer.verify(token, now: plane.time.now()) {
                authentication = .token(session: claims.s, epoch: claims.e)
            } else {
                authentication = .invalid
            }
        case .resumeToken(let token):
            authentication = .resume(tokenHash: Secrets.hash(token))
        case .queueToken(let token):
            if let claims = plane.signer.verifyQueueToken(token, now: plane.time.now()) {
                authentication = .queue(project: claims.p, ticket: claims.t)
            } else {
                authentication = .invalid
            }
        }
        let resumeToken = Secrets.randomToken()
        return machine.authenticated(
            authentication, newResumeToken: resumeToken, newResumeTokenHash: Secrets.hash(resumeToken),
            at: plane.time.now())
    }

    /// Runs a broker command; `false` when the broker refused it (and what the machine says of that was
    /// carried out).
    private func submit(_ command: Command) -> Bool {
        do {
            let (reply, ticket) = try plane.service.submit(command)
            if case .session(let session) = reply, case .helloPending = machine.phase {
                attached(session, ticket: CommitTicketBox(ticket))
            } else if case .queued(let place) = reply, case .helloPending = machine.phase {
                let policy = plane.service.read { try? $0.project(place.ticket.projectId) }?.policy ?? Policy()
                execute(machine.queueAccepted(place, policy: policy, at: plane.time.now()))
            }
            return true
        } catch {
            execute(machine.refused(error, at: plane.time.now()))
            return false
        }
    }

    /// The broker accepted the hello: the welcome waits until the transition is durable.
    private func attached(_ session: Session, ticket: CommitTicketBox) {
        stats = plane.stats.stats(for: session.id)
        let policy = plane.service.read { try? $0.project(session.projectId) }?.policy ?? Policy()
        execute(machine.helloAccepted(session, policy: policy, alternates: plane.alternates(), at: plane.time.now()))
        ticket.ticket.whenDurable { [self] error in
            eventLoop.execute { [self] in execute(machine.durable(error == nil, at: plane.time.now())) }
        }
    }
}

/// Carries a ticket into a closure that must stay `Sendable`.
struct CommitTicketBox: Sendable {
    let ticket: CommitTicket
    init(_ ticket: CommitTicket) { self.ticket = ticket }
}

extension ClientSink {
    /// Sends a server ping.
    func send(ping seq: UInt64, at now: Millis) { sendPing(seq: seq, at: now) }
}
