import TetherProtocol

/// What the client is doing; ``TetherClient/states`` streams every change, in order.
public enum TetherClientState: Sendable, Hashable {
    /// Opening the first connection (not yet welcomed).
    case connecting
    /// Welcomed: the session is live on this connection.
    case connected(SessionInfo)
    /// The client declared a suspension (``TetherClient/suspend(expected:reason:)``); no heartbeats are sent.
    case suspended
    /// The connection was lost; attempt `attempt` (1-based) starts after `delay`.
    case reconnecting(attempt: Int, delay: Duration)
    /// Over for good; the client will not connect again.
    case ended(TetherClientEndReason)
}

/// Why a ``TetherClient`` ended. Each terminal kick reason of the protocol has its case.
public enum TetherClientEndReason: Sendable, Hashable {
    /// ``TetherClient/close()``: the client said `bye` (or gave up locally).
    case left
    /// The backend destroyed the session (kick `destroyed`, close 4003), or its project was deleted.
    case destroyed
    /// A newer connection of the same session took over (kick `replaced`, close 4002).
    case replaced
    /// The token was refused (kick `badToken`, close 4001): forged, expired, an older epoch's, a used resume token.
    case badToken
    /// The session is over by time (kick `expired` answering a hello, or after a loss when grace is 0).
    case expired
    /// The grace window passed without getting back in.
    case graceExpired
    /// The project does not allow the `Origin` this client sent (kick `originNotAllowed`, close 4030): the
    /// page is on a site the project's `allowedOrigins` does not list.
    case originNotAllowed
    /// The server closed for a protocol violation (4000, 4008, 4029, 1009): a bug, not worth retrying.
    case protocolError(code: UInt16, reason: String)
}

/// The session as the last `welcome` described it.
public struct SessionInfo: Sendable, Hashable {
    /// The session.
    public var sessionId: String
    /// The epoch of the current connection (each resume adds one).
    public var epoch: UInt64
    /// The concurrency held.
    public var concurrencyId: String
    /// How often the client pings.
    public var heartbeatInterval: Duration
    /// Silence after which a connection is lost (for the server and for this client).
    public var heartbeatTimeout: Duration
    /// The grace window after a loss, when the server said it (else the configured one).
    public var reconnectGrace: Duration?
    /// The server's clock at the welcome (Unix ms).
    public var serverTime: Int64

    /// Reads a welcome.
    public init(_ welcome: ServerMessage.Welcome) {
        sessionId = welcome.sessionId
        epoch = welcome.epoch
        concurrencyId = welcome.concurrencyId
        heartbeatInterval = .milliseconds(welcome.heartbeat.intervalMs)
        heartbeatTimeout = .milliseconds(welcome.heartbeat.timeoutMs)
        reconnectGrace = welcome.reconnectGraceMs.map { .milliseconds($0) }
        serverTime = welcome.serverTime
    }
}

/// Why the client may declare a suspension (API.md `suspend`'s `reason`).
public enum SuspendReason: String, Sendable, Hashable, CaseIterable {
    /// The app went to the background.
    case background
    /// The page is being hidden.
    case pagehide
    /// The network is changing.
    case networkChange
}
