import NIOCore
import TetherCore
import TetherProtocol

/// The client protocol over TCP frames (`u32 length | u8 type | JSON`). A frame whose type byte does not
/// match its JSON is a protocol error; so is any decoder error (length 0 or over 64 KiB).
final class TCPClientHandler: ChannelInboundHandler, ClientSink {
    typealias InboundIn = TCPFrame
    typealias OutboundOut = TCPFrame

    private let plane: ClientPlaneContext
    private var link: ClientLink?
    private var context: ChannelHandlerContext?
    private var closing = false
    private var lastWrite: EventLoopFuture<Void>?

    init(plane: ClientPlaneContext) { self.plane = plane }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let link = ClientLink(transport: .tcp, eventLoop: context.eventLoop, plane: plane, sink: self)
        self.link = link
        link.start()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }  // closing: the input is read and dropped (see `closeLingering`)
        let frame = unwrapInboundIn(data)
        let result = Result { () throws(ProtocolError) -> ClientMessage in
            let message = try ClientMessage(json: frame.payload.readableBytesView)
            guard message.frameType.rawValue == frame.type else { throw .frameType(frame.type) }
            return message
        }
        link?.receive(result)
    }

    func channelInactive(context: ChannelHandlerContext) {
        link?.peerClosed(cause: .closed)
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let protocolError = error as? ProtocolError {
            link?.receive(.failure(protocolError))
        } else {
            link?.peerClosed(cause: .error)
            context.close(promise: nil)
        }
    }

    // MARK: ClientSink

    func send(_ message: ServerMessage) {
        guard let context, !closing else { return }
        var payload = context.channel.allocator.buffer(capacity: 64)
        message.writeJSON(into: &payload)
        let frame = TCPFrame(type: message.frameType.rawValue, payload: payload)
        lastWrite = context.writeAndFlush(wrapOutboundOut(frame))
    }

    func sendPing(seq: UInt64, at now: Millis) {
        send(.ping(seq: seq, t: now))
    }

    func close(code: CloseCode, reason: String) {
        guard let context, !closing else { return }
        closing = true
        context.channel.closeLingering(after: lastWrite)
    }
}
