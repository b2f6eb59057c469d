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
        guard let auth = head.headers.first(name: "authorization"), auth.hasPrefix("Bearer "),
            let claims = plane.signer.verify(String(auth.dropFirst(7)), now: plane.time.now())
        else { return .kick(.badToken, requestId: requestId) }
        let message: ClientMessage
        do {
            message = try ClientMessage(json: body.readableBytesView)
        } catch {
            return refuse(.badRequest, "InvalidParameter", error.reason)
        }
        if case .hello = message {
            return refuse(.badRequest, "InvalidParameter", "type: send ping, suspend or bye")
        }
        if case .pong = message {
            return refuse(.badRequest, "InvalidParameter", "type: send ping, suspend or bye")
        }
        let link = links.link(for: claims.s, epoch: claims.e)
        if let reason = link.kickedReason, reason == .destroyed || reason == .left || reason == .replaced {
            if reason != .replaced { links.remove(claims.s) }  // told once; the session is over
            return .kick(reason, requestId: requestId)
        }
        let stats = plane.stats.stats(for: claims.s)
        stats.heartbeat()
        // Attach (first heartbeat, or again after a timeout) with the token's epoch.
        if !link.attached || link.kickedReason != nil {
            plane.registry.unregister(link.connection)
            link.reset(id: plane.registry.makeID())
            plane.registry.register(link.connection, link)
            let hello = Command.hello(
                claims.s, epoch: claims.e, connection: link.connection, transport: .http,
                resumeTokenHash: Secrets.hash(Secrets.randomToken()))
            do {
                _ = try plane.service.submit(hello)
                link.attached = true
            } catch .fenced {
                return .kick(.badToken, requestId: requestId)
            } catch {
                return .kick(.expired, requestId: requestId)
            }
        }
        let command: Command
        switch message {
        case .ping(let seq, let t):
            stats.clientSeq(seq, previous: link.lastSeq)
            link.lastSeq = seq
            command = .heartbeat(claims.s, connection: link.connection)
            guard run(command, link: link) else { return .kick(.expired, requestId: requestId) }
            return .ok(ServerMessage.pong(seq: seq, t: t, st: plane.time.now()))
        case .suspend(let expectedMs, let reason):
            guard let reason = SuspendReason(rawValue: reason) else {
                return refuse(.badRequest, "InvalidParameterValue", "reason: unknown")
            }
            command = .suspend(claims.s, connection: link.connection, expectedMs: expectedMs, reason: reason)
        case .bye:
            command = .bye(claims.s, connection: link.connection)
        case .hello, .pong:
            return refuse(.badRequest, "InvalidParameter", "type: send ping, suspend or bye")
        }
        guard run(command, link: link) else { return .kick(.expired, requestId: requestId) }
        return .ok(ServerMessage.pong(seq: 0, t: 0, st: plane.time.now()))
    }

    private func run(_ command: Command, link: HTTPLink) -> Bool {
        do {
            _ = try plane.service.submit(command)
            return true
        } catch {
            return false
        }
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
        let keepAlive = head.isKeepAlive && !tooLarge
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: json)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

/// The virtual connection of a session heartbeating over HTTP.
final class HTTPLink: Kickable, Sendable {
    private struct State {
        var connection: ConnectionID = 0
        var attached = false
        var kickedReason: KickReason?
        var lastSeq: UInt64?
    }
    let epoch: UInt64
    private let state = Mutex(State())

    init(epoch: UInt64) { self.epoch = epoch }

    var connection: ConnectionID { state.withLock { $0.connection } }
    var attached: Bool {
        get { state.withLock { $0.attached } }
        set { state.withLock { $0.attached = newValue } }
    }
    var kickedReason: KickReason? { state.withLock { $0.kickedReason } }
    var lastSeq: UInt64? {
        get { state.withLock { $0.lastSeq } }
        set { state.withLock { $0.lastSeq = newValue } }
    }

    func reset(id: ConnectionID) {
        state.withLock {
            $0.connection = id
            $0.attached = false
            $0.kickedReason = nil
            $0.lastSeq = nil
        }
    }

    func kick(_ kick: Kick) {
        state.withLock {
            $0.kickedReason = kick.reason
            $0.attached = false
        }
    }
}

/// The HTTP links of every session heartbeating over HTTP.
final class HTTPLinks: Sendable {
    private let table = Mutex<[SessionID: HTTPLink]>([:])

    /// The link of (session, epoch). A newer epoch replaces the stored link; an older one gets a throwaway
    /// link (its hello will be fenced off), so a stale token never disturbs the current client.
    func link(for session: SessionID, epoch: UInt64) -> HTTPLink {
        table.withLock { t in
            if let link = t[session] {
                if link.epoch == epoch { return link }
                if link.epoch > epoch { return HTTPLink(epoch: epoch) }
            }
            let link = HTTPLink(epoch: epoch)
            t[session] = link
            return link
        }
    }

    /// Forgets an ended session.
    func remove(_ session: SessionID) { _ = table.withLock { $0.removeValue(forKey: session) } }
}
