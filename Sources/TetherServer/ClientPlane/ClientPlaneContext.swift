import Logging
import TetherCore
import TetherProtocol

/// What every client connection needs: the broker, token verification, the registry of live connections,
/// per-session stats, time, and the limits.
///
/// One instance is shared by reference by every connection's link and handler: as a struct it was copied into
/// each (two copies per WebSocket connection: 264 B of an idle session's memory, docs/PERFORMANCE.md).
final class ClientPlaneContext: Sendable {
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
    let watchedTransports: Set<Transport>
    /// A connection must say hello within this.
    let helloTimeoutMs: Int64
    /// Average inbound messages per second allowed per connection.
    let messagesPerSecond: Double
    /// Burst of inbound messages allowed per connection.
    let messageBurst: Double
    /// The pace of hellos over the whole server (`--hello-rate`).
    let hellos: HelloGate
    /// The `connect` blocks of the cluster's other live nodes, told in each `welcome` (none on a lone node).
    let alternates: @Sendable () -> [ServerMessage.Connect]

    /// Creates the context the client plane's connections share.
    init(
        service: BrokerService, signer: TokenSigner, registry: ConnectionRegistry, stats: StatsRegistry,
        time: any TimeSource, logger: Logger, sweepers: PingSweepers, watchedTransports: Set<Transport> = [],
        helloTimeoutMs: Int64 = 10_000, messagesPerSecond: Double = 50, messageBurst: Double = 100,
        hellos: HelloGate = HelloGate(ratePerSecond: 0, burst: 1),
        alternates: @escaping @Sendable () -> [ServerMessage.Connect] = { [] }
    ) {
        self.service = service
        self.signer = signer
        self.registry = registry
        self.stats = stats
        self.time = time
        self.logger = logger
        self.sweepers = sweepers
        self.watchedTransports = watchedTransports
        self.helloTimeoutMs = helloTimeoutMs
        self.messagesPerSecond = messagesPerSecond
        self.messageBurst = messageBurst
        self.hellos = hellos
        self.alternates = alternates
    }

    /// Reports a lost connection to the broker (a no-op when it is no longer the session's).
    func lost(_ sessionId: SessionID, connection: ConnectionID, cause: DisconnectCause) {
        _ = try? service.submit(.connectionLost(sessionId, connection: connection, cause: cause))
    }
}
