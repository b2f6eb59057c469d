import Logging
import NIOCore
import NIOPosix

/// How a ``TetherClient`` behaves; every default suits a device on the internet. Time and randomness are
/// injectable, so reconnect decisions can be replayed in tests.
public struct TetherClientConfiguration: Sendable {
    /// Reconnect delays (full jitter).
    public var backoff = Backoff()
    /// The grace window assumed until a `welcome` says it (CreateSession's `reconnectGraceMs`; 90 s by default).
    /// Reconnect attempts stop once it has passed since the loss.
    public var reconnectGrace: Duration = .seconds(90)
    /// How long to wait for the `welcome` after the connection opened.
    public var helloTimeout: Duration = .seconds(10)
    /// TCP connect timeout.
    public var connectTimeout: Duration = .seconds(5)
    /// How long ``TetherClient/close()`` waits for the server to acknowledge `bye` before closing anyway.
    public var byeTimeout: Duration = .seconds(2)
    /// The event loops the connections run on.
    public var eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    /// The local (source) address connections bind to before connecting; `nil` lets the system choose. A load
    /// generator spreads many connections over several loopback addresses (127.0.0.2, 127.0.0.3, ...) this way,
    /// since each source address has its own ~28 k ephemeral ports.
    public var localAddress: SocketAddress?
    /// How `wss://` and `tls://` endpoints are spoken to: the system's trust roots by default, or
    /// ``TetherTLS/trusting(caFile:)``.
    public var tls: TetherTLS = .system
    /// Disturbs the heartbeats as a bad network or a throttled tab would (simulators and tests only).
    public var disturbance: HeartbeatDisturbance?
    /// A uniform draw in `0 ..< 1` for the backoff's jitter.
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }
    /// Monotonic time since an arbitrary origin (RTT, deadlines; the `t` of pings is its milliseconds).
    public var now: @Sendable () -> Duration
    /// Sleeps (heartbeat ticks, reconnect delays, the hello timeout); throws when cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    /// Where the client logs its transitions (nothing by default).
    public var logger = Logger(label: "tether.client", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The defaults, on `ContinuousClock`.
    public init() {
        let origin = ContinuousClock.now
        now = { ContinuousClock.now - origin }
    }
}
