import NIOCore
import NIOWebSocket
import TetherProtocol

/// A frame RFC 6455 says the server must fail the connection for, with the close code to fail it with.
struct WebSocketViolation: Error, Equatable {
    /// 1002 (protocol error) or 1007 (invalid UTF-8).
    var code: CloseCode
    /// The close frame's reason.
    var reason: String

    static func protocolError(_ reason: String) -> WebSocketViolation {
        WebSocketViolation(code: .webSocketProtocolError, reason: reason)
    }
}

extension CloseCode {
    /// 1002: a frame RFC 6455 does not allow (unmasked, RSV bits, a reserved opcode, a bad fragment sequence,
    /// a bad close frame, a control frame over 125 bytes or fragmented).
    static let webSocketProtocolError = CloseCode(rawValue: 1002)
    /// 1007: a text message (or close reason) that is not UTF-8.
    static let invalidPayload = CloseCode(rawValue: 1007)

    /// Whether a peer may send this code in a close frame (RFC 6455 §7.4 and the IANA registry: 1000–1003,
    /// 1007–1014, 3000–4999).
    var isValidFromPeer: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}

/// Checks every frame between NIO's frame decoder and the fragment aggregator against RFC 6455 §5: masked,
/// no RSV bits (no extension is negotiated), no reserved opcode, continuations only inside a fragmented
/// message and a new message only outside one, text (and close reasons) valid UTF-8 across fragments, and
/// close frames with a valid code (or none). The first violation is fired as a ``WebSocketViolation`` and
/// nothing after it is passed on. NIO's decoder already refuses control frames over 125 bytes or fragmented,
/// and frames over the size limit.
final class WebSocketFrameChecker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    /// Inside a fragmented message: whether it is text.
    private var fragmented: Bool?
    private var utf8 = UTF8Validator()
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let frame = unwrapInboundIn(data)
        if let violation = check(frame) {
            failed = true
            context.fireErrorCaught(violation)
            return
        }
        context.fireChannelRead(data)
    }

    private func check(_ frame: WebSocketFrame) -> WebSocketViolation? {
        guard frame.maskKey != nil else { return .protocolError("client frames must be masked") }
        guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
            return .protocolError("RSV bits set without a negotiated extension")
        }
        switch frame.opcode {
        case .text, .binary:
            guard fragmented == nil else { return .protocolError("a new message inside a fragmented one") }
            let text = frame.opcode == .text
            if text {
                utf8 = UTF8Validator()
                if let violation = checkText(frame) { return violation }
            }
            if !frame.fin { fragmented = text }
        case .continuation:
            guard let text = fragmented else {
                return .protocolError("a continuation frame with no message to continue")
            }
            if text, let violation = checkText(frame) { return violation }
            if frame.fin { fragmented = nil }
        case .connectionClose:
            return checkClose(frame)
        case .ping, .pong:
            break
        default:
            return .protocolError("reserved opcode")
        }
        return nil
    }

    /// Feeds a text frame's payload to the UTF-8 check; at the message's end the last character must be whole.
    private func checkText(_ frame: WebSocketFrame) -> WebSocketViolation? {
        guard utf8.feed(frame.data, maskKey: frame.maskKey), !frame.fin || utf8.isComplete else {
            return WebSocketViolation(code: .invalidPayload, reason: "text message is not valid UTF-8")
        }
        return nil
    }

    private func checkClose(_ frame: WebSocketFrame) -> WebSocketViolation? {
        var payload = frame.unmaskedData
        guard payload.readableBytes != 1 else { return .protocolError("close frame with a 1-byte payload") }
        guard let code = payload.readInteger(as: UInt16.self) else { return nil }
        guard CloseCode(rawValue: code).isValidFromPeer else { return .protocolError("invalid close code \(code)") }
        var reason = UTF8Validator()
        guard reason.feed(payload, maskKey: nil), reason.isComplete else {
            return WebSocketViolation(code: .invalidPayload, reason: "close reason is not valid UTF-8")
        }
        return nil
    }
}

/// Checks UTF-8 a chunk at a time (a character may straddle two fragments): no overlong forms, no surrogates,
/// nothing above U+10FFFF. Masked chunks are checked without unmasking them into a copy.
struct UTF8Validator {
    /// Continuation bytes still expected.
    private var needed = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// The last character fed is whole.
    var isComplete: Bool { needed == 0 }

    /// Feeds a chunk; `false` at the first byte that cannot be UTF-8.
    mutating func feed(_ buffer: ByteBuffer, maskKey: WebSocketMaskingKey?) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            guard let key = maskKey else {
                for byte in bytes where !feed(byte) { return false }
                return true
            }
            for i in 0..<bytes.count where !feed(bytes[i] ^ key[i & 3]) { return false }
            return true
        }
    }

    private mutating func feed(_ byte: UInt8) -> Bool {
        if needed == 0 {
            switch byte {
            case 0x00...0x7F: return true
            case 0xC2...0xDF: needed = 1
            case 0xE0: (needed, lower) = (2, 0xA0)
            case 0xE1...0xEC, 0xEE...0xEF: needed = 2
            case 0xED: (needed, upper) = (2, 0x9F)
            case 0xF0: (needed, lower) = (3, 0x90)
            case 0xF1...0xF3: needed = 3
            case 0xF4: (needed, upper) = (3, 0x8F)
            default: return false
            }
            return true
        }
        guard byte >= lower, byte <= upper else { return false }
        (needed, lower, upper) = (needed - 1, 0x80, 0xBF)
        return true
    }
}
