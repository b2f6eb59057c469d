import Logging
import NIOCore
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

/// The client protocol of one WebSocket or TCP connection, whatever carries it: hello within 10 s, welcome
/// with a rotating resume token, heartbeats (any inbound frame), server pings to quiet clients, suspend,
/// bye, kicks, protocol errors and the per-connection rate limit.
///
/// Confined to its channel's event loop: every method but ``kick(_:)`` is called there, and ``kick(_:)``
/// hops there. Broker commands run synchronously on the loop (``BrokerService/submit(_:)``).
final class ClientLink: Kickable, PingSweepable, @unchecked Sendable {
    enum State {
        case awaitingHello
        case helloPending
        case attached(SessionID)
        /// The broker no longer knows this connection; its kick (with the real reason) is on the way.
        case draining
        case closed
    }

    let id: ConnectionID
    let transport: Transport
    let eventLoop: any EventLoop
    private let plane: ClientPlaneContext
    private weak var sink: (any ClientSink)?
    private(set) var state = State.awaitingHello
    private var limiter: RateLimiter
    private var lastInbound: Millis
    private var lastSeq: UInt64?
    private var stats: SessionStats?
    private var helloTimer: Scheduled<Void>?
    private var sweeper: PingSweeper?
    var sweepSlot = -1
    private var intervalMs: Millis = 5_000
    private var lastPingAt: Millis = 0
    private var pingSeq: UInt64 = 0
    private var pingsInFlight: [UInt64: Millis] = [:]
    private var welcomed = false

    init(transport: Transport, eventLoop: any EventLoop, plane: ClientPlaneContext, sink: any ClientSink) {
        self.id = plane.registry.makeID()
        self.transport = transport
        self.eventLoop = eventLoop
        self.plane = plane
        self.sink = sink
        self.limiter = RateLimiter(rate: plane.messagesPerSecond, burst: plane.messageBurst)
        self.lastInbound = plane.time.now()
    }

    /// Starts the hello deadline.
    func start() {
        helloTimer = eventLoop.scheduleTask(in: .milliseconds(plane.helloTimeoutMs)) { [self] in
            if case .awaitingHello = state {
                fail(code: .noHello, reason: "no hello within \(plane.helloTimeoutMs) ms")
            }
        }
    }

    // MARK: - Inbound

    /// A decoded (or undecodable) message.
    func receive(_ result: Result<ClientMessage, ProtocolError>) {
        guard inbound() else { return }
        let message: ClientMessage
        switch result {
        case .success(let m): message = m
        case .failure(let error):
            fail(code: error.closeCode, reason: error.reason)
            return
        }
        switch state {
        case .awaitingHello:
            guard case .hello(let credential) = message else {
                fail(code: ProtocolError.helloFirst.closeCode, reason: ProtocolError.helloFirst.reason)
                return
            }
            hello(credential)
        case .helloPending:
            break  // frames racing the welcome; the hello itself counts as the heartbeat
        case .attached(let sessionId):
            attached(sessionId, message)
        case .draining, .closed:
            break
        }
    }

    /// A transport-level frame (WebSocket ping or pong) that counts as a heartbeat.
    func controlFrame() {
        guard inbound(), case .attached(let sessionId) = state else { return }
        run(.keepalive(sessionId, connection: id))
    }

    /// The answer to a server ping.
    func pingAnswered(seq: UInt64) {
        guard let sent = pingsInFlight.removeValue(forKey: seq) else { return }
        let rtt = Double(plane.time.now() - sent)
        stats?.pingAnswered(rttMs: rtt)
        TetherMetrics.rtt(ms: rtt)
    }

    /// Counts an inbound frame against the rate limit; closes the connection when over it.
    private func inbound() -> Bool {
        if case .closed = state { return false }
        let now = plane.time.now()
        lastInbound = now
        guard limiter.allow(at: now) else {
            fail(code: ProtocolError.rateLimited.closeCode, reason: ProtocolError.rateLimited.reason)
            return false
        }
        stats?.heartbeat()
        TetherMetrics.heartbeat(transport)
        return true
    }

    private func attached(_ sessionId: SessionID, _ message: ClientMessage) {
        switch message {
        case .hello:
            fail(code: .protocolError, reason: "hello was already accepted")
        case .ping(let seq, let t):
            stats?.clientSeq(seq, previous: lastSeq)
            lastSeq = seq
            guard heartbeat(sessionId), welcomed else { return }
            sink?.send(.pong(seq: seq, t: t, st: lastInbound))
        case .pong(let seq, _):
            pingAnswered(seq: seq)
            run(.keepalive(sessionId, connection: id))
        case .suspend(let expectedMs, let reason):
            guard let reason = SuspendReason(rawValue: reason) else {
                fail(code: .protocolError, reason: "unknown suspend reason")
                return
            }
            run(.suspend(sessionId, connection: id, expectedMs: expectedMs, reason: reason))
        case .bye:
            // Closed here at once, so that frames racing the broker's kick cannot change its reason.
            if run(.bye(sessionId, connection: id)) {
                finish()
                sink?.send(.kick(reason: KickReason.left.rawValue, retryAfterMs: nil))
                sink?.close(code: .normal, reason: KickReason.left.rawValue)
            }
        }
    }

    @discardableResult
    private func heartbeat(_ sessionId: SessionID) -> Bool {
        run(.heartbeat(sessionId, connection: id))
    }

    /// Runs a command of an attached connection; a refusal means the connection is stale.
    @discardableResult
    private func run(_ command: Command) -> Bool {
        do {
            _ = try plane.service.submit(command)
            return true
        } catch .invalidParameter(let field, let message) {
            fail(code: .protocolError, reason: "\(field): \(message)")
        } catch .fenced {
            awaitKick(fallback: "replaced")
        } catch {
            awaitKick(fallback: "expired")
        }
        return false
    }

    /// A frame raced the broker's kick (destroy, replacement, expiry): the kick carries the real reason and
    /// arrives within microseconds; if it does not come within a second, close with `fallback`.
    private func awaitKick(fallback: String) {
        guard case .attached = state else { return }
        state = .draining
        sweeper?.remove(self)
        eventLoop.scheduleTask(in: .seconds(1)) { [self] in
            if case .draining = state { close(kick: fallback) }
        }
    }

    // MARK: - Hello

    private func hello(_ credential: ClientMessage.Credential) {
        helloTimer?.cancel()
        let resumeToken = Secrets.randomToken()
        let hash = Secrets.hash(resumeToken)
        let command: Command
        switch credential {
        case .token(let token):
            guard let claims = plane.signer.verify(token, now: plane.time.now()) else {
                close(kick: "badToken")
                return
            }
            command = .hello(claims.s, epoch: claims.e, connection: id, transport: transport, resumeTokenHash: hash)
        case .resumeToken(let token):
            command = .resume(
                resumeTokenHash: Secrets.hash(token), connection: id, transport: transport, newResumeTokenHash: hash)
        }
        state = .helloPending
        plane.registry.register(id, self)
        let reply: Reply
        let ticket: CommitTicketBox
        do {
            let (r, t) = try plane.service.submit(command)
            reply = r
            ticket = CommitTicketBox(t)
        } catch .sessionNotFound {
            close(kick: "expired")  // the token is genuine, so the session existed: it ended
            return
        } catch {
            close(kick: "badToken")
            return
        }
        guard case .session(let session) = reply else { return }
        state = .attached(session.id)
        lastSeq = nil
        stats = plane.stats.stats(for: session.id)
        let policy = plane.service.read { try? $0.project(session.projectId) }?.policy ?? Policy()
        intervalMs = policy.heartbeat.intervalMs
        let welcome = ServerMessage.Welcome(
            sessionId: session.id, epoch: session.epoch, concurrencyId: session.concurrencyId,
            heartbeat: .init(intervalMs: policy.heartbeat.intervalMs, timeoutMs: policy.heartbeat.timeoutMs),
            serverTime: plane.time.now(), resumeToken: resumeToken, reconnectGraceMs: policy.reconnectGraceMs)
        // The welcome acknowledges the connection: it goes out once the transition is durable.
        ticket.ticket.whenDurable { [self] error in
            eventLoop.execute { [self] in
                guard case .attached = state else { return }
                if error != nil {
                    fail(code: CloseCode(rawValue: 1011), reason: "store unavailable")
                    return
                }
                welcomed = true
                sink?.send(.welcome(welcome))
                startPinging()
            }
        }
    }

    /// Hands the connection to its loop's ping sweeper.
    private func startPinging() {
        let sweeper = plane.sweepers.sweeper(for: eventLoop)
        self.sweeper = sweeper
        sweeper.add(self)
    }

    /// Looked at every eighth of an interval.
    var sweepEveryMs: Millis { max(intervalMs / 8, 25) }

    /// Pings a client that has been quiet for half an interval, so a client that only answers pings is heard
    /// from every half interval (the timeout is at least two intervals). While a ping is unanswered, the next
    /// goes out an interval later, not sooner: a client that died gets a few pings before its timeout
    /// instead of one every sweep, and a lost ping is still retried before the timeout.
    func sweep(at now: Millis) -> Bool {
        guard case .attached = state, now - lastInbound >= max(intervalMs / 2, 50),
            lastPingAt <= lastInbound || now - lastPingAt >= intervalMs
        else { return false }
        lastPingAt = now
        pingSeq += 1
        if pingsInFlight.count > 16 { pingsInFlight.removeAll() }
        pingsInFlight[pingSeq] = now
        stats?.pingSent()
        sink?.send(ping: pingSeq, at: now)
        return true
    }

    // MARK: - Closing

    /// The broker's kick: tell the client why, then close (the broker already detached the session).
    func kick(_ kick: Kick) {
        eventLoop.execute { [self] in
            guard !isClosed else { return }
            finish()
            sink?.send(.kick(reason: kick.reason.rawValue, retryAfterMs: kick.retryAfterMs))
            sink?.close(code: CloseCode.forKick(kick.reason.rawValue), reason: kick.reason.rawValue)
        }
    }

    /// A kick decided here (bad token, stale connection).
    private func close(kick reason: String) {
        let attachedSession = attachedSessionId
        plane.logger.debug(
            "client connection refused",
            metadata: [
                "sessionId": "\(attachedSession ?? "-")", "transport": "\(transport.rawValue)", "kick": "\(reason)",
            ])
        finish()
        if let attachedSession { plane.lost(attachedSession, connection: id, cause: .error) }
        sink?.send(.kick(reason: reason, retryAfterMs: nil))
        sink?.close(code: CloseCode.forKick(reason), reason: reason)
    }

    /// A protocol violation: close with its code; the session (if any) goes to grace with cause `error`.
    private func fail(code: CloseCode, reason: String) {
        let attachedSession = attachedSessionId
        plane.logger.debug(
            "client connection closed for a protocol error",
            metadata: [
                "sessionId": "\(attachedSession ?? "-")", "transport": "\(transport.rawValue)",
                "closeCode": "\(code.rawValue)", "reason": "\(reason)",
            ])
        finish()
        if let attachedSession { plane.lost(attachedSession, connection: id, cause: .error) }
        if transport == .tcp { sink?.send(.kick(reason: code.name, retryAfterMs: nil)) }
        sink?.close(code: code, reason: reason)
    }

    /// The peer went away (read of 0, FIN, RST, a failed write): the session goes to grace at once.
    func peerClosed(cause: DisconnectCause) {
        let attachedSession = attachedSessionId
        finish()
        if let attachedSession { plane.lost(attachedSession, connection: id, cause: cause) }
    }

    private var attachedSessionId: SessionID? {
        if case .attached(let id) = state { return id }
        return nil
    }

    private var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    private func finish() {
        state = .closed
        helloTimer?.cancel()
        sweeper?.remove(self)
        plane.registry.unregister(id)
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
