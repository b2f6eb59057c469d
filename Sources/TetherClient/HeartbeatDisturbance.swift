/// What a simulated bad network or a throttled browser tab does to a client's heartbeats (`tether sim --loss
/// --jitter-ms --throttled`): for load simulators and tests, not for apps. The client's answers to the
/// server's pings are not touched (a browser answers WebSocket pings itself, even in a background tab).
public struct HeartbeatDisturbance: Sendable, Hashable {
    /// The share of heartbeats never sent (0 ..< 1).
    public var dropRate: Double
    /// Each heartbeat sent is held up to this long, at random.
    public var jitter: Duration
    /// A throttled tab's timers: at most one heartbeat this often (nil: at the session's interval).
    public var pingEvery: Duration?

    /// Creates a disturbance.
    public init(dropRate: Double = 0, jitter: Duration = .zero, pingEvery: Duration? = nil) {
        self.dropRate = dropRate
        self.jitter = jitter
        self.pingEvery = pingEvery
    }
}
