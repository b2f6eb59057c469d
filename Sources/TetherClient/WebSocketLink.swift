import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import TetherProtocol

/// Opens WebSocket connections with NIOHTTP1's client upgrade, over TLS for `wss://`.
enum WebSocketLink {
    /// The upgrade's outcome.
    enum Upgrade: Sendable {
        case upgraded(any Channel)
        case refused(any Channel)
    }

    /// The server answered the upgrade with something other than 101.
    struct UpgradeRefused: Error, CustomStringConvertible {
        var description: String { "the server refused the WebSocket upgrade" }
    }

    /// Connects with `bootstrap` and upgrades; the channel carries `tap` outermost and `WebSocketLinkHandler`
    /// afterwards.
    static func connect(
        host: String, port: Int, path: String, bootstrap: ClientBootstrap, tls: TetherTLS?, tap: LinkTap,
        events: AsyncStream<LinkEvent>.Continuation
    ) async throws -> any Channel {
        let upgrade: EventLoopFuture<Upgrade> =
            try await bootstrap
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(tap, position: .first)
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            tls.makeClientHandler(host: host), position: .first)
                    }
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(
                        maxFrameSize: FrameLimits.maxPayload + 16, enableAutomaticErrorHandling: true,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                let sync = channel.pipeline.syncOperations
                                try sync.addHandler(
                                    NIOWebSocketFrameAggregator(
                                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64,
                                        maxAccumulatedFrameSize: FrameLimits.maxPayload))
                                try sync.addHandler(WebSocketLinkHandler(events: events))
                                return Upgrade.upgraded(channel)
                            }
                        })
                    var headers = HTTPHeaders()
                    let defaultPort = tls == nil ? 80 : 443
                    headers.add(name: "Host", value: port == defaultPort ? host : "\(host):\(port)")
                    headers.add(name: "Content-Length", value: "0")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    var configuration = NIOUpgradableHTTPClientPipelineConfiguration(
                        upgradeConfiguration: NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                            upgradeRequestHead: head, upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in
                                channel.eventLoop.makeSucceededFuture(.refused(channel))
                            }))
                    configuration.leftOverBytesStrategy = .forwardBytes
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: configuration)
                }
            }
        switch try await upgrade.get() {
        case .upgraded(let channel):
            return channel
        case .refused(let channel):
            try? await channel.close()
            throw UpgradeRefused()
        }
    }
}

/// The client end of an upgraded WebSocket: text (or binary) messages to the event stream, pings answered
/// with masked pongs at the end of the read that brought them (see ``PendingPongs``), the server's close frame
/// echoed and its code kept for the `closed` event.
final class WebSocketLinkHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let events: AsyncStream<LinkEvent>.Continuation
    private var closeCode: UInt16?
    private var reason = "connection closed"
    private var closeSent = false
    private var pongs = PendingPongs<ByteBuffer>()

    init(events: AsyncStream<LinkEvent>.Continuation) { self.events = events }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            let bytes = frame.unmaskedData
            if let message = try? JSONDecoder().decode(ServerMessage.self, from: Data(bytes.readableBytesView)) {
                if case .kick = message { pongs.ended() }
                events.yield(.message(message))
            } else {
                events.yield(.activity)
            }
        case .ping:
            pongs.add(frame.unmaskedData)
            events.yield(.activity)
        case .pong:
            events.yield(.activity)
        case .connectionClose:
            pongs.ended()
            var data = frame.unmaskedData
            closeCode = data.readInteger(as: UInt16.self) ?? 1005
            reason = data.readString(length: data.readableBytes) ?? ""
            guard !closeSent else { return }
            closeSent = true
            var echo = context.channel.allocator.buffer(capacity: 2)
            echo.writeInteger(closeCode ?? 1000)
            let channel = context.channel
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: echo))
            ).whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    /// The pongs of the read (see ``PendingPongs``).
    func channelReadComplete(context: ChannelHandlerContext) {
        let due = pongs.take()
        for data in due {
            context.write(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: data)), promise: nil)
        }
        if !due.isEmpty { context.flush() }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        events.yield(.closed(code: closeCode, reason: reason))
        events.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reason = "\(error)"
        context.close(promise: nil)
    }
}
