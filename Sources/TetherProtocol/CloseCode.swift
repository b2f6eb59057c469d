/// The close codes of the client channel (WebSocket close frames; documented in docs/PROTOCOL.md).
public struct CloseCode: RawRepresentable, Sendable, Hashable {
    /// The numeric code.
    public var rawValue: UInt16
    /// Creates a code.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the client said `bye`.
    public static let normal = CloseCode(rawValue: 1000)
    /// 1001: the server is shutting down.
    public static let goingAway = CloseCode(rawValue: 1001)
    /// 1009: a frame over 64 KiB.
    public static let messageTooBig = CloseCode(rawValue: 1009)
    /// 1013: try again later (RFC 6455's registry): a hello over the server's admission rate; the `kick`
    /// before it says `busy` and when to come back (`retryAfterMs`).
    public static let tryAgainLater = CloseCode(rawValue: 1013)
    /// 4000: a message the protocol does not allow (bad JSON, unknown type, anything before hello).
    public static let protocolError = CloseCode(rawValue: 4000)
    /// 4001: the token was refused (forged, expired, an older epoch, a used resume token).
    public static let badToken = CloseCode(rawValue: 4001)
    /// 4002: a newer connection of the same session took over.
    public static let replaced = CloseCode(rawValue: 4002)
    /// 4003: the backend destroyed the session.
    public static let destroyed = CloseCode(rawValue: 4003)
    /// 4004: the connection was declared lost, or the session ended by time.
    public static let expired = CloseCode(rawValue: 4004)
    /// 4009: this cluster node does not serve clients now; the `kick` before it (`moved`) names the node to use.
    public static let moved = CloseCode(rawValue: 4009)
    /// 4008: no hello within 10 s.
    public static let noHello = CloseCode(rawValue: 4008)
    /// 4030: the page's `Origin` is not one of the project's `allowedOrigins`.
    public static let originNotAllowed = CloseCode(rawValue: 4030)
    /// 4029: too many messages per second.
    public static let rateLimited = CloseCode(rawValue: 4029)

    /// The close code of a kick reason.
    public static func forKick(_ reason: String) -> CloseCode {
        switch reason {
        case "replaced": .replaced
        case "destroyed": .destroyed
        case "expired": .expired
        case "left": .normal
        case "shutdown": .goingAway
        case "busy": .tryAgainLater
        case "moved": .moved
        case "originNotAllowed": .originNotAllowed
        default: .badToken
        }
    }
}
