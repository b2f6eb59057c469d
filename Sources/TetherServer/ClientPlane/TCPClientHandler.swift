import NIOCore
import TetherCore
import TetherProtocol

/// The client protocol over TCP frames (`u32 length | u8 type | JSON`): the connection's one handler. It
/// reads frames off the socket's bytes (``TCPFrame/read(from:)``) and writes each frame, header and JSON, as
/// one buffer (no decoder and encoder handlers in front of it: two hops fewer per heartbeat, and the
/// encoder's copy of every frame; docs/PERFORMANCE.md, "One handler per connection"). A frame whose type
/// byte does not match its JSON is a protocol error; so is any decoder error (length 0 or over 64 KiB),
/// after which nothing more is read.
final class TCPClientHandler: ChannelInboundHandler, ClientSink {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let plane: ClientPlaneContext
    private var link: ClientLink?
    private var context: ChannelHandlerContext?
    /// The start of a frame not yet whole.
    private var pending: ByteBuffer?
    private var failed = false
    private var closing = false
    private var lastWrite: EventLoopFuture<Void>?

    init(plane: ClientPlaneContext) { self.plane = plane }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let link = ClientLink(transport: .tcp, eventLoop: context.eventLoop, plane: plane, sink: self)
        self.link = link
        link.start()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        link?.detach()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var pending {
            self.pending = nil
            pending.writeBuffer(&bytes)
            bytes = pending
        }
        while !failed && !closing {  // closing: the input is read and dropped (see `closeLingering`)
            let frame: TCPFrame?
            do {
                frame = try TCPFrame.read(from: &bytes)
            } catch {
                failed = true
                link?.receive(.failure(error))
                return
            }
            guard let frame else {
                if bytes.readableBytes > 0 { pending = bytes }
                return
            }
            receive(frame)
        }
    }

    private func receive(_ frame: TCPFrame) {
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
        pending = nil
        context.fireChannelInactive()
    }

    /// A transport error (a reset, TLS): the session goes to grace with cause `error`.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        link?.peerClosed(cause: .error)
        context.close(promise: nil)
    }

    // MARK: ClientSink

    func send(_ message: ServerMessage) {
        guard let context, !closing else { return }
        var frame = context.channel.allocator.buffer(capacity: 5 + 64)
        frame.moveWriterIndex(to: 5)
        message.writeJSON(into: &frame)
        frame.setInteger(UInt32(frame.writerIndex - 4), at: 0)
        frame.setInteger(message.frameType.rawValue, at: 4)
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
