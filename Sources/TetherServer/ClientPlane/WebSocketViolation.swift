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
