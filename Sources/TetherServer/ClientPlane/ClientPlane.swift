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
        watch: LoopWatch? = nil
    ) async throws {
        self.context = context
        self.watch = watch
        let links = HTTPLinks()
        self.httpLinks = links
        let http = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: Self.receiveBuffers)
            .childChannelInitializer { channel in
                Self.configureHTTP(channel: channel, context: context, links: links)
            }
            .bind(host: host, port: clientPort).get()
        var channels: [any Channel] = [http]
        var tcpBound = 0
        if tcpPort != 0 {
            let tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 1024)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.recvAllocator, value: Self.receiveBuffers)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                        try sync.addHandler(MessageToByteHandler(TCPFrameEncoder()))
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
        let stats = context.stats
        // HTTP links stay until their client has been told why (its next heartbeat gets the kick).
        context.service.setEndHandler { ended in
            for id in ended { stats.remove(id) }
        }
    }

    /// Each connection keeps its receive buffer between reads; a heartbeat is a few dozen bytes, so it starts
    /// at 256 bytes instead of NIO's 2 KiB (1.8 KiB less per idle connection) and grows when reads fill it.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65_536)

    private static func configureHTTP(
        channel: any Channel, context: ClientPlaneContext, links: HTTPLinks
    ) -> EventLoopFuture<Void> {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: FrameLimits.maxPayload,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(head.uri.split(separator: "?").first == "/v1/connect" ? [:] : nil)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64,
                            maxAccumulatedFrameSize: FrameLimits.maxPayload))
                    try sync.addHandler(WebSocketClientHandler(plane: context))
                }
            })
        return channel.eventLoop.makeCompletedFuture {
            let heartbeat = HTTPHeartbeatHandler(plane: context, links: links)
            let bound = NIOLoopBound(heartbeat, eventLoop: channel.eventLoop)
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withServerUpgrade: (
                    upgraders: [upgrader],
                    completionHandler: { context in
                        context.pipeline.syncOperations.removeHandler(bound.value, promise: nil)
                    }
                ))
            try channel.pipeline.syncOperations.addHandler(heartbeat)
        }
    }

    /// Waits for graceful shutdown, then stops accepting and closes what is left.
    public func run() async throws {
        try? await gracefulShutdown()
        for channel in channels { try? await channel.close() }
        watch?.stop()
    }

    /// How many client connections are live.
    var connectionCount: Int { context.registry.count }

    /// The connection quality of a session.
    func stats(of session: SessionID) -> SessionStatsDTO? { context.stats.snapshot(of: session) }
}
