import Logging
import TetherCore
import TetherStore

/// Everything `tether serve` can be told (API.md "Running it").
public struct TetherConfiguration: Sendable {
    /// Interface to bind.
    public var host: String = "127.0.0.1"
    /// Backend API, events, metrics, dashboard (0 picks a free port).
    public var port: Int = 8080
    /// Client WebSocket and HTTP heartbeats.
    public var clientPort: Int = 8081
    /// Client TCP frames; 0 turns them off.
    public var tcpPort: Int = 7070
    /// The host clients are told in `connect` (`ws://`, `tcp://`, `http://` URLs, or with TLS `wss://`, `tls://`,
    /// `https://`, are built from it);
    /// defaults to `host`.
    public var publicURL: String?
    /// The SQLite file (the embedded store), when ``store`` is not set.
    public var dataPath: String = "./tether.sqlite"
    /// The store (`--store`): `nil` is the SQLite file at ``dataPath``.
    public var store: StoreLocation?
    /// The store the server opens.
    public var storeLocation: StoreLocation { store ?? .sqlite(path: dataPath) }
    /// The API key; generated, stored hashed and printed once when absent.
    public var apiKey: String?
    /// The log level.
    public var logLevel: Logger.Level = .info
    /// Makes the server's log handler; `nil` uses swift-log's bootstrapped system (tests capture logs here).
    public var logHandler: (@Sendable (String) -> any LogHandler)?
    /// Event retention: how many of the newest events are kept.
    public var eventsKeep: Int = 1_000_000
    /// Event retention: events older than this are deleted (7 days by default).
    public var eventsMaxAgeMs: Millis = 7 * 24 * 3_600_000
    /// How often the pool of every project is sampled for the dashboard's plot (`GET
    /// /v1/projects/{id}/history`, an hour of samples kept in memory).
    public var poolHistoryPeriodMs: Millis = 10_000
    /// How often an idle event stream (SSE) sends a `: keepalive` comment.
    public var eventStreamKeepAliveMs: Int64 = 15_000
    /// Webhook retry timing (first delay, longest delay, request timeout).
    var webhookRetry = WebhookDispatcher.Retry()
    /// The first webhook retry's delay; later ones double, up to a minute.
    public var webhookRetryBaseMs: Int64 {
        get { webhookRetry.baseMs }
        set { webhookRetry.baseMs = newValue }
    }
    /// Broker settings.
    public var broker = BrokerConfiguration()
    /// Whether WebSocket and TCP heartbeats are recorded on their links (two atomic stores, no broker lock)
    /// and the broker re-checks a due deadline against them (on by default); off, every heartbeat is a broker
    /// command under its mutex. Measured side by side: 24 µs per heartbeat against 29, the same expiry lateness
    /// (docs/PERFORMANCE.md).
    public var loopLiveness = true
    /// Demo mode: creates the `demo` project and serves `/demo` and the unauthenticated `POST /demo/session`.
    /// Never on a server reachable from the internet.
    public var demo = false
    /// Told to clients on shutdown: the first comes back after this, the rest spread at ``helloRatePerSecond``.
    public var shutdownRetryAfterMs: Millis = 1_000
    /// Hellos admitted per second over the whole server, after a burst of as many (0: no limit); a hello over
    /// it is told `busy` with a `retryAfterMs` that gives it a place behind the others (``HelloPacer``).
    public var helloRatePerSecond: Double = 5_000
    /// How far the broker's time may run ahead of an event loop that is behind on reading (``LoopWatch``).
    public var loopLagAllowanceMs: Millis = 250
    /// The HTTP listeners (backend API; client port before a WebSocket upgrade) close a connection that has
    /// waited this long for a request.
    public var httpIdleTimeoutMs: Int64 = 60_000
    /// ... and one whose request (head and body) has not fully arrived this long after its first byte.
    public var httpReadTimeoutMs: Int64 = 15_000
    /// Open connections one source address may hold on each listener (backend, client, TCP); 0 for no cap.
    public var maxConnectionsPerAddress = 4_096

    /// The certificate and key all three listeners serve TLS with (`--tls-cert`, `--tls-key`); nil: plain
    /// HTTP, WebSocket and TCP.
    public var tls: TLSFiles?
    /// Extra certificates (PEM) a node trusts when it calls another node of its cluster over HTTPS, beside the
    /// system's roots and its own certificate chain (`--ca-file`).
    public var peerCAFile: String?

    /// This node's id in a cluster on PostgreSQL (`--node-id`); nil: `HOST:PORT`.
    public var nodeId: String?
    /// A cluster node silent this long is dead, and its lease runs this long (`--node-timeout-ms`).
    public var nodeTimeoutMs: Int64 = 5_000

    /// Creates the default configuration.
    public init() {}

    /// The host part of the client URLs.
    var publicHost: String {
        guard var url = publicURL, !url.isEmpty else { return host }
        for scheme in ["http://", "https://", "ws://", "wss://", "tcp://", "tls://"] where url.hasPrefix(scheme) {
            url.removeFirst(scheme.count)
        }
        let authority = url.split(separator: "/").first.map(String.init) ?? url
        // A port is ignored: the client ports are the node's own.
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[...end])
        }
        return authority.split(separator: ":").first.map(String.init) ?? authority
    }

    /// The URL schemes of this server's listeners.
    var schemes: ListenerSchemes { ListenerSchemes(secure: tls != nil) }
}
