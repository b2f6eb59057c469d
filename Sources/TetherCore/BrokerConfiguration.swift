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
    /// The transports whose connections the shell watches itself (liveness per event loop): for a session
    /// connected over one of them the broker arms no heartbeat deadline, a heartbeat only ends a suspension,
    /// and the shell reports a silent connection with ``Command/heartbeatTimeout(_:connection:latenessMs:)``.
    /// The broker keeps every deadline that outlives a connection (grace, suspension, reservation, connect).
    public var shellWatchedTransports: Set<Transport>
    /// How long a resume token stays accepted after it was spent, for a client whose `welcome` never arrived
    /// (the link broke between the server's acceptance and the client): its retry is answered with a new
    /// epoch instead of `badToken`.
    public var resumeRetryWindowMs: Millis

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
