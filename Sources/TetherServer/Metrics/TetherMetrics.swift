import Metrics
import Prometheus
import Synchronization
import TetherCore

/// Tether's Prometheus metrics (`GET /metrics`): one registry per process, recorded through swift-metrics.
///
/// The factory is also bootstrapped as swift-metrics' global system (once per process), so Hummingbird's
/// `MetricsMiddleware` records API request durations by route, method and status into the same registry.
/// Counters and histograms are recorded where things happen (a heartbeat on its event loop, an expiry in
/// the broker service, a commit in the store's writer); pool gauges are computed from the broker at scrape.
enum TetherMetrics {
    /// The registry `/metrics` renders.
    static let registry = PrometheusCollectorRegistry()

    /// The swift-metrics factory over ``registry``, with buckets fit for each histogram.
    static let factory: PrometheusMetricsFactory = {
        var factory = PrometheusMetricsFactory(registry: registry)
        let fine: [Duration] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        ]
        factory.durationHistogramBuckets = [
            "tether_detection_lateness_seconds": fine, "tether_rtt_seconds": fine,
            "tether_store_commit_seconds": fine, "http_server_request_duration": fine,
        ]
        factory.valueHistogramBuckets = [
            "tether_store_commit_batch_size": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        ]
        return factory
    }()

    /// Makes swift-metrics' global factory ours (first call only; later calls do nothing).
    static func bootstrap() { _ = bootstrapped }
    private static let bootstrapped: Void = { MetricsSystem.bootstrap(factory) }()

    private static let heartbeatCounters: [Transport: Metrics.Counter] = Dictionary(
        uniqueKeysWithValues: Transport.allCases.map { transport in
            (
                transport,
                Metrics.Counter(
                    label: "tether_heartbeats_received_total", dimensions: [("transport", transport.rawValue)],
                    factory: factory)
            )
        })

    /// An inbound client frame (every one counts as a heartbeat).
    static func heartbeat(_ transport: Transport) { heartbeatCounters[transport]?.increment() }

    private static let latenessTimers: [DeadlineKind: Metrics.Timer] = Dictionary(
        uniqueKeysWithValues: DeadlineKind.allCases.map { kind in
            (
                kind,
                Metrics.Timer(
                    label: "tether_detection_lateness_seconds", dimensions: [("deadline", kind.rawValue)],
                    factory: factory)
            )
        })

    /// A deadline (heartbeat timeout, grace end, ...) handled `latenessMs` after it was due.
    static func lateness(_ kind: DeadlineKind, ms: Millis) {
        latenessTimers[kind]?.recordMilliseconds(max(0, ms))
    }

    private static let rttTimer = Metrics.Timer(label: "tether_rtt_seconds", factory: factory)

    /// A server ping's round trip.
    static func rtt(ms: Double) { rttTimer.recordNanoseconds(Int64(max(0, ms) * 1_000_000)) }

    private static let commitTimer = Metrics.Timer(label: "tether_store_commit_seconds", factory: factory)
    private static let commitBatches = Metrics.Recorder(label: "tether_store_commit_batch_size", factory: factory)
    private static let commitFailures = Metrics.Counter(label: "tether_store_commit_failures_total", factory: factory)

    /// One group-commit transaction.
    static func commit(batches: Int, duration: Duration, failed: Bool) {
        commitTimer.recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        commitBatches.record(batches)
        if failed { commitFailures.increment() }
    }

    /// A webhook POST: delivered (a 2xx) or failed (anything else, or no answer).
    static func webhookDelivery(project: ProjectID, delivered: Bool) {
        Metrics.Counter(
            label: "tether_webhook_deliveries_total",
            dimensions: [("project", project), ("result", delivered ? "delivered" : "failed")], factory: factory
        ).increment()
    }

    private static let reportedProjects = Mutex<Set<ProjectID>>([])

    /// Sets the pool gauges (`tether_slots{project,state}`, `tether_sessions{project,state}`) from the
    /// broker's counts; projects gone since the last scrape drop to 0.
    static func updatePools(_ counts: [ProjectID: ConcurrencyCount]) {
        let gone = reportedProjects.withLock { reported in
            let gone = reported.subtracting(counts.keys)
            reported = Set(counts.keys)
            return gone
        }
        for project in gone {
            setPool(
                project,
                ConcurrencyCount(
                    total: 0, idle: 0, reserved: 0, running: 0, created: 0, connected: 0, suspended: 0, grace: 0))
        }
        for (project, count) in counts { setPool(project, count) }
    }

    private static func setPool(_ project: ProjectID, _ c: ConcurrencyCount) {
        for (state, value) in [("idle", c.idle), ("reserved", c.reserved), ("running", c.running), ("total", c.total)] {
            Metrics.Gauge(
                label: "tether_slots", dimensions: [("project", project), ("state", state)], factory: factory
            )
            .record(value)
        }
        for (state, value) in [
            ("created", c.created), ("connected", c.connected), ("suspended", c.suspended), ("grace", c.grace),
        ] {
            Metrics.Gauge(
                label: "tether_sessions", dimensions: [("project", project), ("state", state)], factory: factory
            )
            .record(value)
        }
    }

    /// The Prometheus text exposition of everything recorded.
    static func render() -> [UInt8] {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return bytes
    }
}
