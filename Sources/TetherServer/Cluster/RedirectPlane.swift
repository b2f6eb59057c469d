import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ServiceLifecycle
import TetherProtocol

/// A follower's client ports: the clients are served by the node that owns the cluster, so a client that says
/// `hello` here is told where to go (the contract's `moved`): `kick {reason: "moved", connect}` and close code
/// 4009 on WebSocket, the same kick as a frame on TCP, and a 421 with `connect` for an HTTP heartbeat. With no
/// owner known (a takeover under way), the kick is `shutdown` with `retryAfterMs`, close 1001 (a 503 over HTTP).
/// No session is touched: the hello is not even read beyond its frame.
final class RedirectPlane: Service, Sendable {
    /// Where clients are sent: the owner's `connect`, or nil when none is known.
    typealias Target = @Sendable () -> TetherAPI.CreatedSession.Connect?

    private let channels: [any Channel]

    init(host: String, clientPort: Int, tcpPort: Int, target: @escaping Target, limits: ConnectionLimits) async throws {
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
                            try channel.pipeline.syncOperations.addHandler(RedirectWebSocketHandler(target: target))
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
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
                        try sync.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                        try sync.addHandler(MessageToByteHandler(TCPFrameEncoder()))
                        try sync.addHandler(RedirectTCPHandler(target: target))
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

/// Answers the first WebSocket message (the hello) with the redirect kick and a close frame, then closes.
private final class RedirectWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    private let target: RedirectPlane.Target
    private var answered = false

    init(target: @escaping RedirectPlane.Target) { self.target = target }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        let connect = target()
        let kick = context.channel.allocator.buffer(bytes: RedirectPlane.kick(connect))
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: kick)), promise: nil)
        let code = RedirectPlane.closeCode(connect)
        let channel = context.channel
        var close = context.channel.allocator.buffer(capacity: 16)
        close.writeInteger(code.rawValue)
        close.writeString(connect == nil ? "shutdown" : "moved")
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: close)))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// Answers the first TCP frame (the hello) with the redirect kick frame, then closes.
private final class RedirectTCPHandler: ChannelInboundHandler {
    typealias InboundIn = TCPFrame
    typealias OutboundOut = TCPFrame
    private let target: RedirectPlane.Target
    private var answered = false

    init(target: @escaping RedirectPlane.Target) { self.target = target }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        let kick = context.channel.allocator.buffer(bytes: RedirectPlane.kick(target()))
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(TCPFrame(type: FrameType.kick.rawValue, payload: kick)))
            .whenComplete { _ in channel.close(promise: nil) }
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
