import Foundation
import NIOCore
import TetherProtocol

/// The client end of a TCP frame connection: server messages to the event stream; server `ping`s answered
/// with `pong` here, on the event loop, without a hop.
final class TCPLinkHandler: ChannelInboundHandler {
    typealias InboundIn = TCPFrame
    typealias OutboundOut = TCPFrame

    private let events: AsyncStream<LinkEvent>.Continuation
    private var reason = "connection closed"

    init(events: AsyncStream<LinkEvent>.Continuation) { self.events = events }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let message = try? JSONDecoder().decode(ServerMessage.self, from: Data(frame.payload.readableBytesView))
        else {
            events.yield(.activity)
            return
        }
        if case .ping(let seq, let t) = message {
            let pong = ClientMessage.pong(seq: seq, t: t)
            let payload = context.channel.allocator.buffer(bytes: pong.json)
            context.writeAndFlush(
                wrapOutboundOut(TCPFrame(type: pong.frameType.rawValue, payload: payload)), promise: nil)
            events.yield(.activity)
        } else {
            events.yield(.message(message))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        events.yield(.closed(code: nil, reason: reason))
        events.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reason = "\(error)"
        context.close(promise: nil)
    }
}
