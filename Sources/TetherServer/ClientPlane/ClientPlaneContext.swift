import Logging
import TetherCore

/// What every client connection needs: the broker, token verification, the registry of live connections,
/// per-session stats, time, and the limits.
struct ClientPlaneContext: Sendable {
    let service: BrokerService
    let signer: TokenSigner
    let registry: ConnectionRegistry
    let stats: StatsRegistry
    let time: any TimeSource
    let logger: Logger
    /// The server-ping timer of each event loop.
    let sweepers: PingSweepers
    /// The transports whose connections' heartbeats are recorded on their links, not sent to the broker (the
    /// broker's ``BrokerConfiguration/shellWatchedTransports``).
    var watchedTransports: Set<Transport> = []
    /// A connection must say hello within this.
    var helloTimeoutMs: Int64 = 10_000
    /// Average inbound messages per second allowed per connection.
    var messagesPerSecond: Double = 50
    /// Burst of inbound messages allowed per connection.
    var messageBurst: Double = 100
    /// The pace of hellos over the whole server (`--hello-rate`).
    var hellos = HelloGate(ratePerSecond: 0, burst: 1)

    /// Reports a lost connection to the broker (a no-op when it is no longer the session's).
    func lost(_ sessionId: SessionID, connection: ConnectionID, cause: DisconnectCause) {
        _ = try? service.submit(.connectionLost(sessionId, connection: connection, cause: cause))
    }
}
