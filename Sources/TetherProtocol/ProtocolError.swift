/// Why a client message was refused. Each maps to a close code.
public enum ProtocolError: Error, Sendable, Hashable {
    /// Not a JSON object with a string `type`.
    case invalidJSON
    /// A `type` the protocol does not know.
    case unknownType(String)
    /// A required field is missing.
    case missingField(String)
    /// JSON whose field is of the wrong kind or repeated: `field: problem`.
    case invalidMessage(String)
    /// Something other than `hello` came first.
    case helloFirst
    /// A frame over the size limit, or a TCP length of 0.
    case frameSize(Int)
    /// A TCP frame type that does not match its JSON, or is unknown.
    case frameType(UInt8)
    /// Too many messages per second.
    case rateLimited

    /// The close code the server uses for it.
    public var closeCode: CloseCode {
        switch self {
        case .invalidJSON, .unknownType, .missingField, .invalidMessage, .frameType: .protocolError
        case .helloFirst: .protocolError
        case .frameSize: .messageTooBig
        case .rateLimited: .rateLimited
        }
    }

    /// A short reason for the close frame.
    public var reason: String {
        switch self {
        case .invalidJSON: "invalid JSON"
        case .unknownType(let t): "unknown type '\(t)'"
        case .missingField(let f): "missing field '\(f)'"
        case .invalidMessage(let m): String(m.utf8.prefix(100)) ?? "invalid message"
        case .helloFirst: "hello must come first"
        case .frameSize(let n): "frame size \(n) outside 1...\(FrameLimits.maxPayload)"
        case .frameType(let t): "unknown frame type \(t)"
        case .rateLimited: "too many messages"
        }
    }
}
