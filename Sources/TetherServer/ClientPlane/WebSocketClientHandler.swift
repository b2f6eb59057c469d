import Foundation
import Logging
import NIOCore
import NIOWebSocket
import TetherCore
import TetherProtocol

/// The client protocol over WebSocket (after the upgrade of `GET /v1/connect`): the connection's one handler
/// after the upgrade. It reads frames off the socket's bytes with a ``WebSocketFrameReader`` (RFC 6455's rules
/// are there) and writes ``WebSocketServerFrame``s: JSON text (or binary) messages, ping frames answered, pong
/// frames counted, close frames echoed. RFC 6455 violations close with 1002 or 1007, a frame or message over
/// 64 KiB with 1009.
final class WebSocketClientHandler: ChannelInboundHandler, ClientSink {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let plane: ClientPlaneContext
    private var link: ClientLink?
    private var context: ChannelHandlerContext?
    private var reader = WebSocketFrameReader()
    /// The start of a frame not yet whole.
    private var pending: ByteBuffer?
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
        while let input = reader.read(&bytes) {
            handle(input, context: context)
        }
        if bytes.readableBytes > 0 && !reader.failed { pending = bytes }
    }

    private func handle(_ input: WebSocketInput, context: ChannelHandlerContext) {
        switch input {
        case .message(let payload, let maskKey):
            guard !closing else { return }  // closing: the input is read and dropped (see `closeLingering`)
            link?.receive(Self.decode(payload, maskKey: maskKey))
        case .ping(let data):
            write(.pong, payload: data, context: context)
            link?.controlFrame()
        case .pong(var data):
            link?.controlFrame()
            if let seq = data.readInteger(as: UInt64.self) { link?.pingAnswered(seq: seq) }
        case .close(var data):
            if !closing {
                closing = true
                let code = data.readSlice(length: 2) ?? ByteBuffer()
                let channel = context.channel
                context.writeAndFlush(
                    wrapOutboundOut(WebSocketServerFrame.make(.close, payload: code, allocator: channel.allocator))
                ).whenComplete { _ in channel.close(promise: nil) }
            } else {
                context.close(promise: nil)  // the answer to our close frame: the closing handshake is done
            }
            link?.peerClosed(cause: .closed)
        case .violation(let violation):
            fail(code: violation.code, reason: violation.reason)
        case .tooLarge:
            link?.receive(.failure(.frameSize(FrameLimits.maxPayload + 1)))
        }
    }

    /// Decodes a message. A small masked one (every heartbeat) is unmasked into stack memory instead of a
    /// new buffer; larger ones are unmasked into a copy.
    static func decode(_ payload: ByteBuffer, maskKey: WebSocketMaskingKey?) -> Result<ClientMessage, ProtocolError> {
        let count = payload.readableBytes
        guard let key = maskKey, count <= 256 else {
            var bytes = payload
            if let maskKey { bytes.webSocketUnmask(maskKey) }
            return Result { () throws(ProtocolError) in try ClientMessage(json: bytes.readableBytesView) }
        }
        return payload.withUnsafeReadableBytes { masked in
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
        pending = nil
        context.fireChannelInactive()
    }

    /// A transport error (a reset, TLS): the session goes to grace with cause `error`.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !closing else { return }  // bytes after a failure, read before the close
        link?.peerClosed(cause: .error)
        context.close(promise: nil)
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

    private func write(_ opcode: WebSocketServerFrame.Opcode, payload: ByteBuffer, context: ChannelHandlerContext) {
        context.writeAndFlush(
            wrapOutboundOut(WebSocketServerFrame.make(opcode, payload: payload, allocator: context.channel.allocator)),
            promise: nil)
    }

    /// A close frame's reason: at most 123 bytes of UTF-8 (a control frame's payload is at most 125, the code
    /// takes 2), cut between characters.
    static func closeReason(_ reason: String) -> String {
        var text = Substring(reason)
        while text.utf8.count > 123 { text = text.dropLast() }
        return String(text)
    }

    // MARK: ClientSink

    func send(_ message: ServerMessage) {
        guard let context, !closing else { return }
        let frame = WebSocketServerFrame.make(.text, allocator: context.channel.allocator, capacity: 64) {
            message.writeJSON(into: &$0)
        }
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    func sendPing(seq: UInt64, at now: Millis) {
        guard let context, !closing else { return }
        let frame = WebSocketServerFrame.make(.ping, allocator: context.channel.allocator, capacity: 8) {
            $0.writeInteger(seq)
        }
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    func close(code: CloseCode, reason: String) {
        guard let context, !closing else { return }
        closing = true
        let text = Self.closeReason(reason)
        let frame = WebSocketServerFrame.make(
            .close, allocator: context.channel.allocator, capacity: 2 + text.utf8.count
        ) {
            $0.writeInteger(code.rawValue)
            $0.writeString(text)
        }
        context.channel.closeLingering(after: context.writeAndFlush(wrapOutboundOut(frame)))
    }
}
