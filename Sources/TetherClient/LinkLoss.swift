import TetherProtocol

/// How a connection ended, as the client saw it; ``ReconnectPlanner`` decides what follows.
public enum LinkLoss: Sendable, Hashable {
    /// The server sent `kick` (then closed). On WebSocket the close code that follows adds nothing.
    case kicked(reason: String, retryAfterMs: Int64?)
    /// A WebSocket close frame with no `kick` before it.
    case closed(code: UInt16, reason: String)
    /// No goodbye: the connection reached EOF, was reset or failed.
    case transport(String)
    /// The node could not be reached: the connection could not be opened, or this client's own watchdog gave
    /// up on it (no welcome in time, no inbound frame for `heartbeat.timeoutMs`). The next attempt tries the
    /// next of the cluster's nodes (``EndpointRoster``).
    case unreachable(String)
    /// The node does not serve clients and named the one that does (kick `moved`, close 4009): not a loss.
    case moved(ServerMessage.Connect)
}

/// What a loss means: the end, or a reconnect after a delay.
enum LossKind: Sendable, Hashable {
    /// Over for good.
    case terminal(TetherClientEndReason)
    /// The session is probably still held: come back, no sooner than `notBefore`, within `graceFloor` at least.
    case transient(notBefore: Duration?, graceFloor: Duration?)
    /// Go at once to the node the server named.
    case moved
}

extension LinkLoss {
    /// The protocol-violation kick reasons of TCP (docs/PROTOCOL.md) and their WebSocket close codes.
    static let protocolKicks: [String: CloseCode] = [
        "protocolError": .protocolError, "tooLarge": .messageTooBig, "noHello": .noHello,
        "rateLimited": .rateLimited,
    ]

    /// How long the server holds every session after a shutdown or restart (BEHAVIOUR.md).
    static let shutdownGraceFloor: Duration = .seconds(30)

    /// Classifies the loss. `welcomed`: the connection had been welcomed; `grace`: the session's grace window.
    func kind(welcomed: Bool, grace: Duration) -> LossKind {
        switch self {
        case .kicked(let reason, let retryAfterMs):
            switch reason {
            case "replaced": return .terminal(.replaced)
            case "destroyed": return .terminal(.destroyed)
            case "left": return .terminal(.left)
            case "badToken": return .terminal(.badToken)
            case "originNotAllowed": return .terminal(.originNotAllowed)
            case "expired": return Self.expired(welcomed: welcomed, grace: grace)
            case "shutdown":
                return .transient(
                    notBefore: retryAfterMs.map { .milliseconds($0) }, graceFloor: Self.shutdownGraceFloor)
            case "moved":
                // Without a `connect` to follow (a `.moved` loss carries one): come back as after any loss.
                return .transient(notBefore: nil, graceFloor: nil)
            case "tooManyConnections":
                // This address holds as many connections as the server allows it: come back later.
                return .transient(notBefore: retryAfterMs.map { .milliseconds($0) }, graceFloor: nil)
            case "busy":
                // Over the server's hello rate: come back when it says; the session was not touched.
                return .transient(notBefore: retryAfterMs.map { .milliseconds($0) }, graceFloor: nil)
            default:
                let code = Self.protocolKicks[reason]?.rawValue ?? 0
                return .terminal(.protocolError(code: code, reason: reason))
            }
        case .closed(let code, let reason):
            switch CloseCode(rawValue: code) {
            case .badToken: return .terminal(.badToken)
            case .originNotAllowed: return .terminal(.originNotAllowed)
            case .replaced: return .terminal(.replaced)
            case .destroyed: return .terminal(.destroyed)
            case .expired: return Self.expired(welcomed: welcomed, grace: grace)
            case .normal: return .terminal(.left)
            case .goingAway: return .transient(notBefore: nil, graceFloor: Self.shutdownGraceFloor)
            case .tryAgainLater, .moved: return .transient(notBefore: nil, graceFloor: nil)
            case .protocolError, .noHello, .rateLimited, .messageTooBig:
                return .terminal(.protocolError(code: code, reason: reason))
            default: return .transient(notBefore: nil, graceFloor: nil)
            }
        case .transport, .unreachable:
            return .transient(notBefore: nil, graceFloor: nil)
        case .moved:
            return .moved
        }
    }

    /// `expired` answering a hello means the session is over; after a welcome it means the server declared
    /// the connection lost, and the session waits in grace (unless grace is 0).
    private static func expired(welcomed: Bool, grace: Duration) -> LossKind {
        welcomed && grace > .zero ? .transient(notBefore: nil, graceFloor: nil) : .terminal(.expired)
    }
}
