import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import TetherCore
import TetherProtocol

/// `POST /v1/heartbeat` for clients that cannot hold a socket: `Authorization: Bearer <clientToken>` and a
/// `ping` (or `suspend`, `bye`) body, answered by `pong`. The first heartbeat connects the session; the
/// session's HTTP "connection" is virtual (no socket), so it is lost only by timeout. Every refusal is an
/// error in the API's shape (``HeartbeatAnswer``); after a kick, the next heartbeat is answered with the
/// kick's reason in `error.kick` (401, 409 or 410); a heartbeat with the current epoch's token reconnects a
/// session in grace.
final class HTTPHeartbeatHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let plane: ClientPlaneContext
    private let links: HTTPLinks
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false

    init(plane: ClientPlaneContext, links: HTTPLinks) {
        self.plane = plane
        self.links = links
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = context.channel.allocator.buffer(capacity: 0)
            tooLarge = false
        case .body(var chunk):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > FrameLimits.maxPayload {
                tooLarge = true
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            let requestId = TetherRequestContext.makeRequestID()
            let answer = respond(head: head, body: body ?? ByteBuffer(), requestId: requestId)
            write(context: context, head: head, answer: answer, requestId: requestId)
            self.head = nil
            self.body = nil
        }
    }

    private func respond(head: HTTPRequestHead, body: ByteBuffer, requestId: String) -> HeartbeatAnswer {
        func refuse(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> HeartbeatAnswer {
            .error(status, code, message, requestId: requestId)
        }
        guard head.uri.split(separator: "?").first == "/v1/heartbeat" else {
            return refuse(.notFound, "ResourceNotFound", "no such route")
        }
        guard head.method == .POST else { return refuse(.methodNotAllowed, "UnsupportedOperation", "use POST") }
        guard !tooLarge else {
            return refuse(.payloadTooLarge, "InvalidParameter.BodyTooLarge", "body over 64 KiB")
        }
        guard let auth = head.headers.first(name: "authorization"), auth.hasPrefix("Bearer ") else {
            return .kick(.badToken, requestId: requestId)
        }
        let token = String(auth.dropFirst(7))
        let now = plane.time.now()
        let claims = plane.signer.verify(token, now: now)
        let queueClaims = claims == nil ? plane.signer.verifyQueueToken(token, now: now) : nil
        guard claims != nil || queueClaims != nil else { return .kick(.badToken, requestId: requestId) }
        let message: ClientMessage
        do {
            message = try ClientMessage(json: body.readableBytesView)
        } catch {
            return refuse(.badRequest, "InvalidParameter", error.reason)
        }
        let origin = head.headers.first(name: "origin")
        if let queueClaims { return answer(queued(queueClaims, message, origin: origin), requestId: requestId) }
        guard let claims else { return .kick(.badToken, requestId: requestId) }
        if case .hello = message {
            return refuse(.badRequest, "InvalidParameter", "type: send ping, suspend or bye")
        }
        if case .pong = message {
            return refuse(.badRequest, "InvalidParameter", "type: send ping, suspend or bye")
        }
        let link = links.link(for: claims.s, epoch: claims.e, now: now)
        let plane = self.plane
        let reply = execute(
            link.request(message, origin: origin, at: now) {
                ((plane.registry.makeID(), Secrets.hash(Secrets.randomToken())), plane.hellos.admit(at: now))
            },
            link: link)
        return answer(reply, requestId: requestId)
    }

    /// How the machine's reply is written (no reply: the session is over).
    private func answer(_ reply: HeartbeatReply?, requestId: String) -> HeartbeatAnswer {
        switch reply {
        case .message(let message): .ok(message)
        case .kick(let reason): .kick(reason, requestId: requestId)
        case .busy(let retryAfterMs): .busy(retryAfterMs: retryAfterMs, requestId: requestId)
        case .invalid(let code, let message): .error(.badRequest, code, message, requestId: requestId)
        case nil: .kick(.expired, requestId: requestId)
        }
    }

    /// A heartbeat with a queue token: the ticket's live client over HTTP (``HTTPQueueLink``).
    private func queued(_ claims: TokenSigner.QueueClaims, _ message: ClientMessage, origin: String?)
        -> HeartbeatReply?
    {
        let now = plane.time.now()
        let link = links.queued.link(project: claims.p, ticket: claims.t, now: now)
        let plane = self.plane
        return execute(
            link.run { m in
                // Decided under the link's lock, like a session's (``HTTPLink/request(_:origin:at:attaching:)``).
                let needsAttach = m.httpQueueNeedsAttach
                let attach = needsAttach ? plane.registry.makeID() : nil
                let busy = needsAttach ? plane.hellos.admit(at: now) : nil
                return m.httpQueueRequest(message, attach: attach, busyRetryAfterMs: busy, origin: origin, at: now)
            }, link)
    }

    /// Carries out the machine's actions for one queued client's heartbeat; returns the answer it chose.
    private func execute(_ actions: ConnectionActions, _ link: HTTPQueueLink) -> HeartbeatReply? {
        for action in actions {
            switch action {
            case .countInbound:
                TetherMetrics.heartbeat(.http)
            case .attach(let old, let new):
                if old != 0 { plane.registry.unregister(old) }
                plane.registry.register(new, link)
            case .submit(let command):
                do {
                    let (reply, _) = try plane.service.submit(command)
                    if case .queued(let place) = reply {
                        let policy = plane.service.read { try? $0.project(place.ticket.projectId) }?.policy ?? Policy()
                        return execute(
                            link.run { $0.httpQueueAccepted(place, policy: policy, at: plane.time.now()) }, link)
                    }
                } catch {
                    return execute(link.run { $0.refused(error, at: plane.time.now()) }, link)
                }
            case .watch(let at, let until), .seen(let at, let until):
                link.heard(at: at, until: until)
            case .answer(let reply):
                return reply
            case .forget:
                links.queued.remove(link)
                plane.registry.unregister(link.connection)
            default:
                break  // the session's actions: not a queued client's
            }
        }
        return nil
    }

    /// Carries out the machine's actions for one heartbeat; a refused command is replaced by what the
    /// machine says of it. Returns the answer the machine chose.
    private func execute(_ actions: ConnectionActions, link: HTTPLink) -> HeartbeatReply? {
        for action in actions {
            switch action {
            case .countInbound:
                plane.stats.stats(for: link.session).heartbeat()
                TetherMetrics.heartbeat(.http)
            case .clientSeq(let seq, let previous):
                plane.stats.stats(for: link.session).clientSeq(seq, previous: previous)
            case .attach(let old, let new):
                if old != 0 { plane.registry.unregister(old) }
                plane.registry.register(new, link)
            case .submit, .heartbeat:
                let command: Command
                switch action {
                case .heartbeat(let session, let connection, _): command = .heartbeat(session, connection: connection)
                case .submit(let c): command = c
                default: continue
                }
                do {
                    let (reply, _) = try plane.service.submit(command)
                    if case .session(let session) = reply {
                        _ = link.run { $0.helloAccepted(session, policy: Policy(), at: plane.time.now()) }
                    }
                } catch {
                    return execute(link.run { $0.refused(error, at: plane.time.now()) }, link: link)
                }
            case .answer(let reply):
                return reply
            case .forget:
                links.remove(link.session)
            case .rtt, .pace, .authenticate, .register, .send, .pong, .ping, .close, .lost, .queueLost, .startPinging,
                .stopPinging,
                .watch, .awaitWelcome, .seen, .unwatch,
                .scheduleDrain, .cancelHelloTimer, .unregister, .logRefusal:
                break  // WebSocket and TCP only
            }
        }
        return nil
    }

    private func write(
        context: ChannelHandlerContext, head: HTTPRequestHead, answer: HeartbeatAnswer, requestId: String
    ) {
        let status = answer.status
        let json = answer.body
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json; charset=utf-8")
        headers.add(name: "content-length", value: String(json.count))
        headers.add(name: "x-request-id", value: requestId)
        if let retryAfterMs = answer.retryAfterMs {
            headers.add(name: "retry-after", value: String((retryAfterMs + 999) / 1_000))
        }
        let keepAlive = head.isKeepAlive && !tooLarge
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: json)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            // An error answer is closed by HTTPConnectionGuard, which waits for the client to close first (a
            // close now, with a body still coming, would reset the connection before the client reads the
            // answer).
            if !keepAlive && status.code < 400 { channel.close(promise: nil) }
        }
    }
}

/// The virtual connection of a session heartbeating over HTTP: its ``ConnectionMachine``, behind a lock (a
/// client's heartbeats may arrive on several connections, on several event loops). The lock is held only
/// while the machine runs, never while its actions are carried out.
final class HTTPLink: Kickable, Sendable {
    let session: SessionID
    let epoch: UInt64
    private let machine: Mutex<ConnectionMachine>

    init(session: SessionID, epoch: UInt64, now: Millis) {
        self.session = session
        self.epoch = epoch
        self.machine = Mutex(ConnectionMachine(httpSession: session, epoch: epoch, now: now))
    }

    /// Runs one input of the machine.
    func run(_ input: (inout ConnectionMachine) -> ConnectionActions) -> ConnectionActions {
        machine.withLock { input(&$0) }
    }

    /// One heartbeat's input: whether it attaches the session (and so needs a fresh connection id and
    /// resume-token hash, and the hello pacer's word, from `attaching`) is decided under the lock, with the
    /// request. Decided before it, a kick landing in between (every link is kicked at a graceful shutdown) left
    /// a heartbeat that had to attach without what it needed, and the machine told it `expired` (410): `tether
    /// bench storm-term` lost 10–67 of 19 000 sessions that way.
    func request(
        _ message: ClientMessage, origin: String?, at now: Millis,
        attaching: () -> (attach: (ConnectionID, String), busyRetryAfterMs: Millis?)
    ) -> ConnectionActions {
        machine.withLock { m in
            guard m.httpNeedsAttach else {
                return m.httpRequest(message, attach: nil, origin: origin, at: now)
            }
            let (attach, busy) = attaching()
            return m.httpRequest(message, attach: attach, busyRetryAfterMs: busy, origin: origin, at: now)
        }
    }

    func kick(_ kick: Kick) {
        _ = run { $0.kicked(kick) }
    }
}

/// The HTTP links of every session heartbeating over HTTP (and of every queued client, ``queued``).
final class HTTPLinks: Sendable {
    private let table = Mutex<[SessionID: HTTPLink]>([:])
    /// The queued clients' links, by ticket.
    let queued = HTTPQueueLinks()

    /// The link of (session, epoch). A newer epoch replaces the stored link; an older one gets a throwaway
    /// link (its hello will be fenced off), so a stale token never disturbs the current client.
    func link(for session: SessionID, epoch: UInt64, now: Millis = 0) -> HTTPLink {
        table.withLock { t in
            if let link = t[session] {
                if link.epoch == epoch { return link }
                if link.epoch > epoch { return HTTPLink(session: session, epoch: epoch, now: now) }
            }
            let link = HTTPLink(session: session, epoch: epoch, now: now)
            t[session] = link
            return link
        }
    }

    /// Forgets an ended session.
    func remove(_ session: SessionID) { _ = table.withLock { $0.removeValue(forKey: session) } }
}
