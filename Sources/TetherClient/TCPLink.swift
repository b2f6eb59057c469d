import Foundation
import NIOCore
import TetherProtocol

/// The client end of a TCP frame connection: server messages to the event stream; server `ping`s answered
/// with `pong` here, on the event loop, without a hop.
///
/// The pongs of one read go out at its end (`channelReadComplete`), after every frame of it has been passed on,
/// and not at all when the read brought a kick. A pong written in the middle of a read can fail (the server has
/// closed for good: it kicked this client and its linger ran out while the client was stalled), and NIO then
/// closes the channel at once, inside the read: the frames after the ping, the kick among them, would never
/// reach the client, which would take a kick for a network loss and reconnect.
final class TCPLinkHandler: ChannelInboundHandler {
    typealias InboundIn = TCPFrame
    typealias OutboundOut = TCPFrame

    private let events: AsyncStream<LinkEvent>.Continuation
    private var reason = "connection closed"
    private var pongs = PendingPongs<ClientMessage>()

    init(events: AsyncStream<LinkEvent>.Continuation) { self.events = events }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let message = try? JSONDecoder().decode(ServerMessage.self, from: Data(frame.payload.readableBytesView))
        else {
            events.yield(.activity)
            return
        }
        switch message {
        case .ping(let seq, let t):
            pongs.add(.pong(seq: seq, t: t))
            events.yield(.activity)
        case .kick:
            pongs.ended()
            events.yield(.message(message))
        default:
            events.yield(.message(message))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let due = pongs.take()
        for pong in due {
            let payload = context.channel.allocator.buffer(bytes: pong.json)
            context.write(wrapOutboundOut(TCPFrame(type: pong.frameType.rawValue, payload: payload)), promise: nil)
        }
        if !due.isEmpty { context.flush() }
        context.fireChannelReadComplete()
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
