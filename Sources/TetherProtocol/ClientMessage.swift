import Foundation

/// A message from a client (API.md "Client channel"). The same JSON travels over WebSocket text messages,
/// TCP frames and HTTP heartbeats.
public enum ClientMessage: Sendable, Hashable {
    /// First message: a client token from CreateSession, or a resume token from a `welcome`.
    case hello(Credential)
    /// Heartbeat; `t` is the client's clock, echoed in `pong`.
    case ping(seq: UInt64, t: Int64)
    /// Answer to a server `ping` (TCP, where there are no WebSocket ping frames).
    case pong(seq: UInt64, t: Int64)
    /// Declared absence.
    case suspend(expectedMs: Int64, reason: String)
    /// Leaving: the session ends.
    case bye

    /// What a `hello` carries.
    public enum Credential: Sendable, Hashable {
        /// The client token from CreateSession.
        case token(String)
        /// The resume token from the last `welcome`.
        case resumeToken(String)
        /// A queued apply's `queueToken`: the client waits in the queue live.
        case queueToken(String)
    }

    /// Decodes one message; anything else is a ``ProtocolError``.
    public init(json: some Collection<UInt8>) throws(ProtocolError) {
        // The heartbeat, by far the most frequent message, skips Foundation when it has the usual shape.
        if let fast = json.withContiguousStorageIfAvailable({ Self.fastPing(UnsafeRawBufferPointer($0)) }),
            let message = fast
        {
            self = message
            return
        }
        try self.init(decodingStrictly: json)
    }

    /// The full decoder: any RFC 8259 JSON text, read strictly (``StrictJSONDecoder``): a repeated member, a
    /// `null` or a fraction where an integer goes is refused with the field's name.
    init(decodingStrictly json: some Collection<UInt8>) throws(ProtocolError) {
        let wire: WireMessage
        do {
            wire = try StrictJSONDecoder().decode(WireMessage.self, from: json)
        } catch {
            throw error.kind == .syntax && error.path == "body" ? .invalidJSON : .invalidMessage(error.description)
        }
        switch wire.type {
        case "hello":
            // Any string is a credential to check: an empty, overlong or forged one is a bad token (kick
            // `badToken`, close 4001), not a malformed message.
            if let token = wire.queueToken {
                guard wire.token == nil && wire.resumeToken == nil else {
                    throw .invalidMessage("hello: a queueToken comes alone (no token, no resumeToken)")
                }
                self = .hello(.queueToken(token))
            } else if let token = wire.token {
                self = .hello(.token(token))
            } else if let token = wire.resumeToken {
                self = .hello(.resumeToken(token))
            } else {
                throw .missingField("token")
            }
        case "ping":
            guard let seq = wire.seq else { throw .missingField("seq") }
            self = .ping(seq: seq, t: wire.t ?? 0)
        case "pong":
            guard let seq = wire.seq else { throw .missingField("seq") }
            self = .pong(seq: seq, t: wire.t ?? 0)
        case "suspend":
            guard let expected = wire.expectedMs else { throw .missingField("expectedMs") }
            self = .suspend(expectedMs: expected, reason: wire.reason ?? "background")
        case "bye":
            self = .bye
        default:
            throw .unknownType(String(wire.type.prefix(32)))
        }
    }

    /// The JSON text of the message (what the SDK sends).
    public var json: Data {
        var w = WireMessage(type: "")
        switch self {
        case .hello(.token(let token)):
            w.type = "hello"
            w.token = token
        case .hello(.resumeToken(let token)):
            w.type = "hello"
            w.resumeToken = token
        case .hello(.queueToken(let token)):
            w.type = "hello"
            w.queueToken = token
        case .ping(let seq, let t):
            w.type = "ping"
            w.seq = seq
            w.t = t
        case .pong(let seq, let t):
            w.type = "pong"
            w.seq = seq
            w.t = t
        case .suspend(let expectedMs, let reason):
            w.type = "suspend"
            w.expectedMs = expectedMs
            w.reason = reason
        case .bye:
            w.type = "bye"
        }
        return (try? JSONEncoder().encode(w)) ?? Data()
    }

    /// The TCP frame type of the message.
    public var frameType: FrameType {
        switch self {
        case .hello: .hello
        case .ping: .ping
        case .pong: .pong
        case .suspend: .suspend
        case .bye: .bye
        }
    }
}

/// Every field any message may carry; decoded leniently, then checked per type.
struct WireMessage: Codable {
    var type: String
    var token: String?
    var resumeToken: String?
    var queueToken: String?
    var seq: UInt64?
    var t: Int64?
    var expectedMs: Int64?
    var reason: String?
}
