/// Settings of the broker itself (not of a project).
public struct BrokerConfiguration: Sendable, Hashable {
    /// The longest the shell lets pass between two advances of time while deadlines are armed.
    /// ``Broker/nextWakeup`` never lies further ahead than this.
    public var tickMs: Millis
    /// A gap between two observed times longer than this means the process itself stalled: instead of
    /// expiring every client it could not read meanwhile, every deadline moves later by the gap.
    /// Must be larger than ``tickMs``.
    public var stallThresholdMs: Millis
    /// The shortest grace window given to sessions whose connections a shutdown or restart dropped.
    public var restartGraceFloorMs: Millis
    /// How many history entries a session keeps (the oldest are dropped).
    public var historyLimit: Int
    /// Reported as `retryAfterMs` with NoIdle when no slot is about to be freed.
    public var defaultRetryAfterMs: Millis
    /// The transports whose connections' heartbeats the shell records itself, on their event loops, without a
    /// command: for a session connected over one of them a heartbeat reaches the broker only to end a
    /// suspension, and its heartbeat deadline, when due, is checked against when the shell last heard from the
    /// connection (``Broker/tick(at:heard:)``).
    public var shellWatchedTransports: Set<Transport>
    /// How long a resume token stays accepted after it was spent, for a client whose `welcome` never arrived
    /// (the link broke between the server's acceptance and the client): its retry is answered with a new
    /// epoch instead of `badToken`.
    public var resumeRetryWindowMs: Millis
    /// The cause given to sessions whose connections were lost with the process that held them, when a broker
    /// is rebuilt from the store: `shutdown` for a restart of the one node (their grace at least
    /// ``restartGraceFloorMs``), `nodeLost` for a takeover by another node of a cluster (their project's grace
    /// window, from the takeover).
    public var restoredConnectionCause: DisconnectCause = .shutdown

    /// Creates a configuration.
    public init(
        tickMs: Millis = 250, stallThresholdMs: Millis = 1_000, restartGraceFloorMs: Millis = 30_000,
        historyLimit: Int = 64, defaultRetryAfterMs: Millis = 5_000, shellWatchedTransports: Set<Transport> = [],
        resumeRetryWindowMs: Millis = 30_000
    ) {
        precondition(stallThresholdMs > tickMs, "stallThresholdMs must exceed tickMs")
        self.tickMs = tickMs
        self.stallThresholdMs = stallThresholdMs
        self.restartGraceFloorMs = restartGraceFloorMs
        self.historyLimit = historyLimit
        self.defaultRetryAfterMs = defaultRetryAfterMs
        self.shellWatchedTransports = shellWatchedTransports
        self.resumeRetryWindowMs = resumeRetryWindowMs
    }
}
