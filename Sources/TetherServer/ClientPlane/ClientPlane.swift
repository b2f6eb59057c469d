import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ServiceLifecycle
import TetherCore
import TetherProtocol

/// The client plane: WebSocket `/v1/connect` and `POST /v1/heartbeat` on the client port, TCP frames on the
/// TCP port. Plain SwiftNIO channel handlers (no task per connection). Bound when made, so the backend API
/// knows the real ports; closed on graceful shutdown, after the broker has kicked every client.
public final class ClientPlane: Service, Sendable {
    /// The bound client port (WebSocket and HTTP heartbeats).
    public let clientPort: Int
    /// The bound TCP port, or 0 when TCP is off.
    public let tcpPort: Int
    private let channels: [any Channel]
    private let context: ClientPlaneContext
    private let httpLinks: HTTPLinks
    private let watch: LoopWatch?

    /// Binds the client port and (unless 0 in `tcpPort`) the TCP port.
    init(
        host: String, clientPort: Int, tcpPort: Int, context: ClientPlaneContext, group: any EventLoopGroup,
        limits: ConnectionLimits, tls: TLSIdentity? = nil, watch: LoopWatch? = nil
    ) async throws {
        self.context = context
        self.watch = watch
        let links = HTTPLinks()
        self.httpLinks = links
        let httpCap = AddressCap(limit: limits.maxPerAddress)
        let tcpCap = AddressCap(limit: limits.maxPerAddress)
        let http = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 4096)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: Self.receiveBuffers)
            .childChannelInitializer { channel in
                Self.configureHTTP(
                    channel: channel, context: context, links: links, limits: limits, cap: httpCap, tls: tls)
            }
            .bind(host: host, port: clientPort).get()
        var channels: [any Channel] = [http]
        var tcpBound = 0
        if tcpPort != 0 {
            let tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 4096)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.recvAllocator, value: Self.receiveBuffers)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try tls?.addServerHandlers(to: sync)
                        try sync.addHandler(AddressCapHandler(cap: tcpCap, answer: .tcpKick))
                        try sync.addHandler(TCPClientHandler(plane: context))
                    }
                }
                .bind(host: host, port: tcpPort).get()
            channels.append(tcp)
            tcpBound = tcp.localAddress?.port ?? tcpPort
        }
        self.channels = channels
        self.clientPort = http.localAddress?.port ?? clientPort
        self.tcpPort = tcpBound
        let registry = context.registry
        context.service.setKickHandler { registry.deliver($0) }
        context.service.setNoticeHandler { registry.deliver($0) }
        context.service.setHeardSource { registry.heardAt($0) }
        let stats = context.stats
        // HTTP links stay until their client has been told why (its next heartbeat gets the kick).
        context.service.setEndHandler { ended in
            for id in ended { stats.remove(id) }
        }
    }

    /// Each connection keeps its receive buffer between reads; a heartbeat is a few dozen bytes, so it starts
    /// at 256 bytes instead of NIO's 2 KiB (1.8 KiB less per idle connection) and grows when reads fill it.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65_536)

    /// The client port's pipeline: TLS first when it is on; the address cap; NIO's HTTP/1 server (header limits, no error handler of
    /// its own) with the WebSocket upgrader; the connection guard (timeouts, parser errors answered and
    /// closed, every error response closed); refused handshakes answered; HTTP heartbeats. The upgrade takes
    /// the HTTP handlers out and puts in one handler, ``WebSocketClientHandler``, which reads RFC 6455's frames
    /// itself (``WebSocketFrameReader``) and closes with the RFC's codes.
    private static func configureHTTP(
        channel: any Channel, context: ClientPlaneContext, links: HTTPLinks, limits: ConnectionLimits, cap: AddressCap,
        tls: TLSIdentity?
    ) -> EventLoopFuture<Void> {
        let upgrader = WebSocketUpgrader(
            shouldUpgrade: { channel, head in
                let accept = WebSocketHandshake.isConnectPath(head.uri) && WebSocketHandshake.refusal(head) == nil
                return channel.eventLoop.makeSucceededFuture(accept ? [:] : nil)
            },
            makeHandler: { _, head in WebSocketClientHandler(plane: context, origin: head.headers.first(name: "origin"))
            })
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            let connectionGuard = HTTPConnectionGuard(
                idleTimeout: limits.idleTimeout, readTimeout: limits.readTimeout, closeAfterErrors: true)
            let refusals = WebSocketRefusalHandler()
            let heartbeat = HTTPHeartbeatHandler(plane: context, links: links)
            let bound = NIOLoopBound((connectionGuard, refusals, heartbeat), eventLoop: channel.eventLoop)
            try tls?.addServerHandlers(to: sync)
            try sync.addHandler(AddressCapHandler(cap: cap, answer: .http))
            try sync.configureHTTPServerPipeline(
                withServerUpgrade: (
                    upgraders: [upgrader],
                    completionHandler: { context in
                        // After the upgrade the heartbeat timeout governs the connection.
                        let sync = context.pipeline.syncOperations
                        sync.removeHandler(bound.value.0, promise: nil)
                        sync.removeHandler(bound.value.1, promise: nil)
                        sync.removeHandler(bound.value.2, promise: nil)
                    }
                ),
                withErrorHandling: false, withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: HTTPHeaderLimits.decoder)
            try sync.addHandler(connectionGuard)
            try sync.addHandler(refusals)
            try sync.addHandler(heartbeat)
        }
    }

    /// Waits for graceful shutdown, then for the WebSocket and TCP connections to close (up to 2 s), then
    /// stops accepting.
    ///
    /// The broker, stopped before this plane, has kicked every client with `shutdown`: each link writes its kick
    /// and closes. A process that exits before they have was seen to cut a kick off under load (a TCP client got
    /// a bare EOF and came back at once instead of after `retryAfterMs`: SDKRestartTests in CI).
    public func run() async throws {
        try? await gracefulShutdown()
        let deadline = ContinuousClock.now + .seconds(2)
        while context.registry.socketCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for channel in channels { try? await channel.close() }
        watch?.stop()
    }

    /// How many client connections are live.
    var connectionCount: Int { context.registry.count }

    /// The connection quality of a session.
    func stats(of session: SessionID) -> TetherAPI.SessionStats? { context.stats.snapshot(of: session) }
}
