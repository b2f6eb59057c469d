import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The WebSocket upgrade of the client port: NIO's upgrader answers the handshake (the request's checks and
/// `Sec-WebSocket-Accept`), and the connection then gets one handler, ``WebSocketClientHandler``, instead of
/// the frame decoder and encoder NIO's upgrader would add in front of it (three hops fewer per heartbeat, and
/// their state per connection; docs/PERFORMANCE.md, "One WebSocket handler").
final class WebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    private let handshake: NIOWebSocketServerUpgrader
    private let makeHandler: @Sendable (any Channel, HTTPRequestHead) throws -> any ChannelHandler

    /// An upgrader that accepts the requests `shouldUpgrade` accepts and puts `makeHandler`'s handler on the
    /// upgraded connection.
    init(
        shouldUpgrade: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?>,
        makeHandler: @escaping @Sendable (any Channel, HTTPRequestHead) throws -> any ChannelHandler
    ) {
        self.makeHandler = makeHandler
        handshake = NIOWebSocketServerUpgrader(
            shouldUpgrade: shouldUpgrade,
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() })
    }

    var supportedProtocol: String { handshake.supportedProtocol }
    var requiredUpgradeHeaders: [String] { handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(
        channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        handshake.buildUpgradeResponse(
            channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(makeHandler(channel, upgradeRequest))
        }
    }
}
