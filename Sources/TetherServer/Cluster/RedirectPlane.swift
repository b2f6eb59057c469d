import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ServiceLifecycle
import TetherProtocol

/// A follower's client ports: the clients are served by the node that owns the cluster, so a client that says
/// `hello` here is told where to go (the contract's `moved`): `kick {reason: "moved", connect}` and close code
/// 4009 on WebSocket, the same kick as a frame on TCP, and a 421 with `connect` for an HTTP heartbeat. With no
/// owner known (a takeover under way), a WebSocket or TCP hello waits for one (up to `waitMs`); then, or at
/// once over HTTP, it is `shutdown` with `retryAfterMs`, close 1001 (a 503 over HTTP).
/// No session is touched: the hello is not even read beyond its frame.
final class RedirectPlane: Service, Sendable {
    /// Where clients are sent: the owner's `connect`, or nil when none is known.
    typealias Target = @Sendable () -> TetherAPI.CreatedSession.Connect?

    private let channels: [any Channel]
    /// Set once the ports are let go of (the end of the follower's phase).
    private let released: NIOLockedValueBox<Bool>

    /// How often a hello waiting for an owner looks again.
    static let pollMs: Int64 = 20
    /// How long the probe of the owner's client port may take.
    static let probeTimeoutMs: Int64 = 500

    /// `waitMs`: how long a WebSocket or TCP hello waits for an owner to be known before it is told `shutdown`;
    /// `released` is set once this plane has closed its ports (so that a node that took the lease sends held
    /// clients to itself only once its own client plane can bind them).
    init(
        host: String, clientPort: Int, tcpPort: Int, target: @escaping Target, waitMs: Int64,
        released: NIOLockedValueBox<Bool>, limits: ConnectionLimits, tls: TLSIdentity?
    ) async throws {
        self.released = released
        let group = MultiThreadedEventLoopGroup.singleton
        let http = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: FrameLimits.maxPayload, automaticErrorHandling: false,
                    shouldUpgrade: { channel, head in
                        let accept =
                            WebSocketHandshake.isConnectPath(head.uri) && WebSocketHandshake.refusal(head) == nil
                        return channel.eventLoop.makeSucceededFuture(accept ? [:] : nil)
                    },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64,
                                    maxAccumulatedFrameSize: FrameLimits.maxPayload))
                            try channel.pipeline.syncOperations.addHandler(
                                RedirectSocketHandler(target: target, framing: .websocket, waitMs: waitMs))
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try tls?.addServerHandlers(to: sync)
                    let heartbeat = RedirectHTTPHandler(target: target)
                    let connectionGuard = HTTPConnectionGuard(
                        idleTimeout: limits.idleTimeout, readTimeout: limits.readTimeout, closeAfterErrors: true)
                    let bound = NIOLoopBound((heartbeat, connectionGuard), eventLoop: channel.eventLoop)
                    try sync.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                context.pipeline.syncOperations.removeHandler(bound.value.0, promise: nil)
                                context.pipeline.syncOperations.removeHandler(bound.value.1, promise: nil)
                            }
                        ),
                        withErrorHandling: true, withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: HTTPHeaderLimits.decoder)
                    try sync.addHandler(connectionGuard)
                    try sync.addHandler(heartbeat)
                }
            }
            .bind(host: host, port: clientPort).get()
        var channels: [any Channel] = [http]
        if tcpPort != 0 {
            let tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try tls?.addServerHandlers(to: sync)
                        try sync.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                        try sync.addHandler(MessageToByteHandler(TCPFrameEncoder()))
                        try sync.addHandler(RedirectSocketHandler(target: target, framing: .tcp, waitMs: waitMs))
                    }
                }
                .bind(host: host, port: tcpPort).get()
            channels.append(tcp)
        }
        self.channels = channels
    }

    /// Waits for graceful shutdown (the end of the follower's phase), then frees the ports.
    func run() async throws {
        try? await gracefulShutdown()
        for channel in channels { try? await channel.close() }
        released.withLockedValue { $0 = true }
    }

    /// The kick that sends a client away, as JSON.
    static func kick(_ connect: TetherAPI.CreatedSession.Connect?) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.field("type", "kick")
        if let connect {
            w.field("reason", "moved")
            w.key("connect")
            connect.writeJSON(into: &w)
        } else {
            w.field("reason", "shutdown")
            w.field("retryAfterMs", Int64(1_000))
        }
        w.endObject()
        return w.bytes
    }

    /// The close code that goes with ``kick(_:)``.
    static func closeCode(_ connect: TetherAPI.CreatedSession.Connect?) -> CloseCode {
        connect == nil ? .goingAway : .moved
    }
}

/// Answers the first WebSocket message or TCP frame (the hello) with the redirect kick (and, on WebSocket, a
/// close frame), then closes. With no owner known yet (a takeover under way) the hello waits, up to `waitMs`,
/// for one to be known, so that the client follows it at once instead of backing off for a retry.
private final class RedirectSocketHandler: ChannelInboundHandler {
    typealias InboundIn = Any
    typealias OutboundOut = Any
    enum Framing { case websocket, tcp }

    private let target: RedirectPlane.Target
    private let framing: Framing
    private let waitMs: Int64
    private var answered = false
    private var check: Scheduled<Void>?

    init(target: @escaping RedirectPlane.Target, framing: Framing, waitMs: Int64) {
        self.target = target
        self.framing = framing
        self.waitMs = waitMs
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        answer(context: context, deadline: .now() + .milliseconds(waitMs))
    }

    /// Sends the client to the owner once its client port accepts connections: a takeover's new owner binds it
    /// only once its broker is restored, and an owner that died a moment ago is still named until its lease
    /// runs down; sent there, the client would find it closed and back off.
    private func answer(context: ChannelHandlerContext, deadline: NIODeadline) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        guard let connect = target(), let (host, port) = address(in: connect) else {
            return retry(context: context, deadline: deadline)
        }
        ClientBootstrap(group: context.eventLoop).connectTimeout(.milliseconds(RedirectPlane.probeTimeoutMs))
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let probe):
                    probe.close(promise: nil)
                    bound.value.0.send(connect, context: bound.value.1)
                case .failure:
                    bound.value.0.retry(context: bound.value.1, deadline: deadline)
                }
            }
    }

    /// Looks again shortly, or, past the deadline, tells the client `shutdown`.
    private func retry(context: ChannelHandlerContext, deadline: NIODeadline) {
        guard NIODeadline.now() < deadline else { return send(nil, context: context) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(in: .milliseconds(RedirectPlane.pollMs)) {
            bound.value.0.answer(context: bound.value.1, deadline: deadline)
        }
    }

    /// The host and port of the client's transport in `connect`.
    private func address(in connect: TetherAPI.CreatedSession.Connect) -> (String, Int)? {
        guard let url = framing == .websocket ? connect.websocket : connect.tcp,
            let parsed = URLComponents(string: url), let host = parsed.host, let port = parsed.port
        else { return nil }
        return (host, port)
    }

    private func send(_ connect: TetherAPI.CreatedSession.Connect?, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let kick = context.channel.allocator.buffer(bytes: RedirectPlane.kick(connect))
        let channel = context.channel
        let sent: EventLoopFuture<Void>
        switch framing {
        case .websocket:
            context.write(NIOAny(WebSocketFrame(fin: true, opcode: .text, data: kick)), promise: nil)
            var close = context.channel.allocator.buffer(capacity: 16)
            close.writeInteger(RedirectPlane.closeCode(connect).rawValue)
            close.writeString(connect == nil ? "shutdown" : "moved")
            sent = context.writeAndFlush(NIOAny(WebSocketFrame(fin: true, opcode: .connectionClose, data: close)))
        case .tcp:
            sent = context.writeAndFlush(NIOAny(TCPFrame(type: FrameType.kick.rawValue, payload: kick)))
        }
        sent.whenComplete { _ in channel.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// `POST /v1/heartbeat` on a follower: 421 with the owner's `connect` (503 when none is known); anything else 404.
private final class RedirectHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let target: RedirectPlane.Target
    private var head: HTTPRequestHead?

    init(target: @escaping RedirectPlane.Target) { self.target = target }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let connect = target()
            var w = JSONWriter()
            let status: HTTPResponseStatus
            if head.method == .POST && head.uri.split(separator: "?").first == "/v1/heartbeat" {
                status = connect == nil ? .serviceUnavailable : .misdirectedRequest
                w.beginObject()
                w.key("error")
                w.beginObject()
                w.field("code", connect == nil ? "InternalError.ShuttingDown" : "FailedOperation.Moved")
                w.field(
                    "message",
                    connect == nil
                        ? "this node does not serve clients now: heartbeat again shortly"
                        : "this node does not serve clients: connect to the node in `connect`")
                w.endObject()
                w.field("kick", connect == nil ? "shutdown" : "moved")
                if let connect {
                    w.key("connect")
                    connect.writeJSON(into: &w)
                }
                w.endObject()
            } else {
                status = .notFound
                w.beginObject()
                w.key("error")
                w.beginObject()
                w.field("code", "ResourceNotFound")
                w.field("message", "no such route")
                w.endObject()
                w.endObject()
            }
            let body = context.channel.allocator.buffer(bytes: w.bytes)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            if connect == nil { headers.add(name: "Retry-After", value: "1") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
