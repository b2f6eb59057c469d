import NIOCore
import NIOWebSocket
import TetherProtocol

/// What a client's bytes amount to, one item at a time (``WebSocketFrameReader/read(_:)``).
enum WebSocketInput: Equatable {
    /// A whole text or binary message. Unfragmented, `payload` is the frame's payload as it came, still masked
    /// with `maskKey` (a heartbeat is decoded without a copy); reassembled from fragments, it is unmasked and
    /// `maskKey` is nil.
    case message(payload: ByteBuffer, maskKey: WebSocketMaskingKey?)
    /// A ping frame; its payload unmasked.
    case ping(ByteBuffer)
    /// A pong frame; its payload unmasked.
    case pong(ByteBuffer)
    /// A close frame, checked (no code, or a code a peer may send and a UTF-8 reason); its payload unmasked.
    case close(ByteBuffer)
    /// A frame RFC 6455 says the connection must be failed for (1002, 1007).
    case violation(WebSocketViolation)
    /// A frame, or a message across its fragments, over ``WebSocketFrameReader/maxPayload`` bytes or
    /// ``WebSocketFrameReader/maxFragments`` frames (1009).
    case tooLarge
}

/// RFC 6455's framing as read by a server (§5), as a pure value: bytes in, ``WebSocketInput``s out. It holds
/// what the three handlers it replaces held (NIO's frame decoder and fragment aggregator, and Tether's
/// frame checker): frames must be masked, carry no RSV bit (no extension is negotiated) and
/// no reserved opcode; control frames are final and at most 125 bytes; continuations only inside a fragmented
/// message and a new message only outside one; text (across fragments) and close reasons valid UTF-8; a close
/// code a peer may send. Header faults are found as soon as the header is read, before its payload arrives.
/// After the first ``WebSocketInput/violation(_:)`` or ``WebSocketInput/tooLarge`` it reads nothing more.
///
/// One handler reading frames off the socket's bytes takes three pipeline hops off every heartbeat
/// (docs/PERFORMANCE.md, "One WebSocket handler").
struct WebSocketFrameReader {
    /// The largest payload of a frame or of a whole message.
    let maxPayload: Int
    /// The most frames a fragmented message may have.
    let maxFragments: Int
    /// Inside a fragmented message: whether it is text, its bytes so far (unmasked) and its frame count.
    private var fragmented: (text: Bool, data: ByteBuffer, frames: Int)?
    private var utf8 = UTF8Validator()
    private(set) var failed = false

    init(maxPayload: Int = FrameLimits.maxPayload, maxFragments: Int = 64) {
        self.maxPayload = maxPayload
        self.maxFragments = maxFragments
    }

    /// Reads the next item off `buffer`: `nil` when `buffer` holds no whole frame yet (nothing is consumed
    /// then), else the item, with its frame consumed. A fragment that does not end its message is consumed
    /// and reading goes on to the next frame.
    mutating func read(_ buffer: inout ByteBuffer) -> WebSocketInput? {
        while !failed {
            guard let header = Self.header(buffer) else { return nil }
            if let fault = check(header) { return fail(fault) }
            guard buffer.readableBytes >= header.size + header.length else { return nil }
            buffer.moveReaderIndex(forwardBy: header.size)
            let payload = buffer.readSlice(length: header.length)!
            if let item = take(header, payload) { return item }
        }
        return nil
    }

    private mutating func fail(_ item: WebSocketInput) -> WebSocketInput {
        failed = true
        fragmented = nil
        return item
    }

    /// A frame's header: the first two bytes, the extended length and the masking key.
    struct Header {
        var fin: Bool
        var rsv: UInt8
        var opcode: UInt8
        var maskKey: WebSocketMaskingKey?
        /// The payload's length (`Int.max` for a 64-bit length that does not fit).
        var length: Int
        /// The header's own length.
        var size: Int
        var isControl: Bool { opcode & 0x8 != 0 }
    }

    /// The header at the start of `buffer`, if all of it is there.
    static func header(_ buffer: ByteBuffer) -> Header? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else { return nil }
        var size = 2
        var length = Int(second & 0x7F)
        switch length {
        case 126:
            guard let word = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) else { return nil }
            (length, size) = (Int(word), 4)
        case 127:
            guard let quad = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt64.self) else { return nil }
            (length, size) = (quad > UInt64(Int.max) ? Int.max : Int(quad), 10)
        default:
            break
        }
        var maskKey: WebSocketMaskingKey?
        if second & 0x80 != 0 {
            guard let key = buffer.viewBytes(at: buffer.readerIndex + size, length: 4) else { return nil }
            maskKey = WebSocketMaskingKey(key)
            size += 4
        }
        return Header(
            fin: first & 0x80 != 0, rsv: first & 0x70, opcode: first & 0x0F, maskKey: maskKey, length: length,
            size: size)
    }

    /// The faults a header alone shows, in the order NIO's decoder and the checker found them.
    private func check(_ header: Header) -> WebSocketInput? {
        if header.length > maxPayload { return .tooLarge }
        if header.isControl && !header.fin { return .violation(.protocolError("fragmented control frame")) }
        if header.isControl && header.length > 125 {
            return .violation(.protocolError("control frame over 125 bytes"))
        }
        guard header.maskKey != nil else { return .violation(.protocolError("client frames must be masked")) }
        guard header.rsv == 0 else { return .violation(.protocolError("RSV bits set without a negotiated extension")) }
        switch header.opcode {
        case 0x1, 0x2:
            guard fragmented == nil else { return .violation(.protocolError("a new message inside a fragmented one")) }
        case 0x0:
            guard let fragmented else {
                return .violation(.protocolError("a continuation frame with no message to continue"))
            }
            if fragmented.frames >= maxFragments || fragmented.data.readableBytes + header.length > maxPayload {
                return .tooLarge
            }
        case 0x8, 0x9, 0xA:
            break
        default:
            return .violation(.protocolError("reserved opcode"))
        }
        return nil
    }

    /// A whole frame whose header passed ``check(_:)``.
    private mutating func take(_ header: Header, _ payload: ByteBuffer) -> WebSocketInput? {
        switch header.opcode {
        case 0x1, 0x2:
            let text = header.opcode == 0x1
            if text {
                utf8 = UTF8Validator()
                guard utf8.feed(payload, maskKey: header.maskKey), !header.fin || utf8.isComplete else {
                    return fail(.violation(Self.invalidText))
                }
            }
            guard header.fin else {
                var data = ByteBuffer()
                data.writeImmutableBuffer(Self.unmasked(payload, header.maskKey))
                fragmented = (text, data, 1)
                return nil
            }
            return .message(payload: payload, maskKey: header.maskKey)
        case 0x0:
            guard var message = fragmented else { return nil }  // `check` saw to it
            if message.text {
                guard utf8.feed(payload, maskKey: header.maskKey), !header.fin || utf8.isComplete else {
                    return fail(.violation(Self.invalidText))
                }
            }
            fragmented = nil
            message.data.writeImmutableBuffer(Self.unmasked(payload, header.maskKey))
            message.frames += 1
            guard header.fin else {
                fragmented = message
                return nil
            }
            return .message(payload: message.data, maskKey: nil)
        case 0x9:
            return .ping(Self.unmasked(payload, header.maskKey))
        case 0xA:
            return .pong(Self.unmasked(payload, header.maskKey))
        default:  // 0x8, as `check` left only these
            let data = Self.unmasked(payload, header.maskKey)
            if let fault = Self.checkClose(data) { return fail(.violation(fault)) }
            return .close(data)
        }
    }

    private static let invalidText = WebSocketViolation(
        code: .invalidPayload, reason: "text message is not valid UTF-8")

    private static func unmasked(_ payload: ByteBuffer, _ key: WebSocketMaskingKey?) -> ByteBuffer {
        guard let key, payload.readableBytes > 0 else { return payload }
        var copy = payload
        copy.webSocketUnmask(key)
        return copy
    }

    private static func checkClose(_ data: ByteBuffer) -> WebSocketViolation? {
        var payload = data
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
