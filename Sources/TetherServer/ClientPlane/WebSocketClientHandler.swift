import Foundation
import Logging
import NIOCore
import NIOWebSocket
import TetherCore
import TetherProtocol

/// The client protocol over WebSocket (after the upgrade of `GET /v1/connect`): JSON text (or binary)
/// messages, ping frames answered, pong frames counted, close frames echoed.
final class WebSocketClientHandler: ChannelInboundHandler, ClientSink {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let plane: ClientPlaneContext
    private var link: ClientLink?
    private var context: ChannelHandlerContext?
    private var closing = false
    /// The upgrade request's `Origin` header.
    private let origin: String?

    init(plane: ClientPlaneContext, origin: String? = nil) {
        self.plane = plane
        self.origin = origin
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let link = ClientLink(
            transport: .websocket, eventLoop: context.eventLoop, plane: plane, sink: self, origin: origin)
        self.link = link
        link.start()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            guard !closing else { return }  // closing: the input is read and dropped (see `closeLingering`)
            link?.receive(Self.decode(frame))
        case .ping:
            let data = frame.unmaskedData
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: data)), promise: nil)
            link?.controlFrame()
        case .pong:
            var data = frame.unmaskedData
            link?.controlFrame()
            if let seq = data.readInteger(as: UInt64.self) { link?.pingAnswered(seq: seq) }
        case .connectionClose:
            if !closing {
                closing = true
                var data = frame.unmaskedData
                let code = data.readSlice(length: 2) ?? ByteBuffer()
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)))
                    .whenComplete { _ in channel.close(promise: nil) }
            } else {
                context.close(promise: nil)  // the answer to our close frame: the closing handshake is done
            }
            link?.peerClosed(cause: .closed)
        default:
            break
        }
    }

    /// Decodes a message. A small masked frame (every heartbeat) is unmasked into stack memory instead of
    /// a new buffer; larger ones go through `unmaskedData`.
    static func decode(_ frame: WebSocketFrame) -> Result<ClientMessage, ProtocolError> {
        let count = frame.data.readableBytes
        guard let key = frame.maskKey, count <= 256 else {
            let bytes = frame.unmaskedData
            return Result { () throws(ProtocolError) in try ClientMessage(json: bytes.readableBytesView) }
        }
        return frame.data.withUnsafeReadableBytes { masked in
            withUnsafeTemporaryAllocation(byteCount: max(count, 1), alignment: 1) { plain in
                for i in 0..<count { plain[i] = masked[i] ^ key[i & 3] }
                let bytes = UnsafeRawBufferPointer(rebasing: plain[0..<count])
                return Result { () throws(ProtocolError) in try ClientMessage(json: bytes) }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        link?.peerClosed(cause: .closed)
        self.context = nil
        context.fireChannelInactive()
    }

    /// RFC 6455 violations (``WebSocketFrameChecker``, NIO's frame decoder) close with 1002 or 1007, a frame or
    /// message over 64 KiB with 1009; other errors just close.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let violation = error as? WebSocketViolation {
            fail(code: violation.code, reason: violation.reason)
            return
        }
        switch error as? NIOWebSocketError {
        case .invalidFrameLength:
            link?.receive(.failure(.frameSize(FrameLimits.maxPayload + 1)))
            return
        case .fragmentedControlFrame:
            fail(code: .webSocketProtocolError, reason: "fragmented control frame")
            return
        case .multiByteControlFrameLength:
            fail(code: .webSocketProtocolError, reason: "control frame over 125 bytes")
            return
        case .none:
            break
        }
        switch error as? NIOWebSocketFrameAggregator.Error {
        case .accumulatedFrameSizeIsTooLarge, .tooManyFragments:
            link?.receive(.failure(.frameSize(FrameLimits.maxPayload + 1)))
        case .some:
            fail(code: .webSocketProtocolError, reason: "bad fragment sequence")
        case .none:
            guard !closing else { return }  // bytes after a failure, read before the close
            link?.peerClosed(cause: .error)
            context.close(promise: nil)
        }
    }

    /// Fails the connection for a frame the RFC does not allow: the session (if any) goes to grace with cause
    /// `error`, and the close frame carries `code`.
    private func fail(code: CloseCode, reason: String) {
        guard !closing else { return }
        plane.logger.debug(
            "client connection closed for a WebSocket protocol error",
            metadata: ["closeCode": "\(code.rawValue)", "reason": "\(reason)"])
        link?.peerClosed(cause: .error)
        close(code: code, reason: reason)
    }

    // MARK: ClientSink

    func send(_ message: ServerMessage) {
        guard let context, !closing else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        message.writeJSON(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: buffer)), promise: nil)
    }

    func sendPing(seq: UInt64, at now: Millis) {
        guard let context, !closing else { return }
        var buffer = context.channel.allocator.buffer(capacity: 8)
        buffer.writeInteger(seq)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: buffer)), promise: nil)
    }

    func close(code: CloseCode, reason: String) {
        guard let context, !closing else { return }
        closing = true
        var buffer = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        buffer.writeInteger(code.rawValue)
        buffer.writeString(String(reason.prefix(120)))
        context.channel.closeLingering(
            after: context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: buffer))))
    }
}
