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

    /// Makes swift-metrics' global factory ours and registers every family whose label values are known
    /// (heartbeats per transport, lateness per deadline kind, RTT, store commits) at zero, so a fresh
    /// server's `/metrics` shows them before the first client (first call only; later calls do nothing).
    static func bootstrap() { _ = bootstrapped }
    private static let bootstrapped: Void = {
        MetricsSystem.bootstrap(factory)
        _ = heartbeatCounters
        _ = latenessTimers
        _ = rttTimer
        _ = commitTimer
        _ = commitBatches
        _ = commitFailures
        _ = helloDeferrals
    }()

    /// Every family `/metrics` shows, with its Prometheus type. A family with no series yet (one labelled
    /// by project on a server without projects, the API's before the first request) is still listed, as a
    /// `# TYPE` line with no samples.
    static let families: [(name: String, type: String)] =
        [
            ("tether_slots", "gauge"), ("tether_sessions", "gauge"), ("tether_heartbeats_received_total", "counter"),
            ("tether_detection_lateness_seconds", "histogram"), ("tether_rtt_seconds", "histogram"),
            ("tether_store_commit_seconds", "histogram"), ("tether_store_commit_batch_size", "histogram"),
            ("tether_store_commit_failures_total", "counter"), ("tether_webhook_deliveries_total", "counter"),
            ("tether_hellos_deferred_total", "counter"),
            ("http_server_request_duration", "histogram"), ("hb_requests", "counter"),
            ("http_server_active_requests", "gauge"), ("hb_request_errors", "counter"),
        ] + nodeFamilies

    /// Registers at start what depends on the broker's projects: the pool gauges of every project and
    /// both delivery results of every project with a webhook, at their current values or zero.
    static func registerProjects(_ service: BrokerService) {
        updatePools(poolCounts(service))
        let webhooks = service.read { broker in broker.allProjects.filter { $0.policy.webhook != nil }.map(\.id) }
        for project in webhooks { webhookProject(project) }
    }

    /// Every project's pool counts, as the broker has them now.
    static func poolCounts(_ service: BrokerService) -> [ProjectID: ConcurrencyCount] {
        service.read { broker in
            var counts: [ProjectID: ConcurrencyCount] = [:]
            for project in broker.allProjects { counts[project.id] = try? broker.count(project.id) }
            return counts
        }
    }

    private static let heartbeatCounters: [Transport: Metrics.Counter] = Dictionary(
        uniqueKeysWithValues: Transport.allCases.map { transport in
            (
                transport,
                Metrics.Counter(
                    label: "tether_heartbeats_received_total", dimensions: [("transport", transport.rawValue)],
                    factory: factory)
            )
        })

    private static let helloDeferrals = Metrics.Counter(label: "tether_hellos_deferred_total", factory: factory)

    /// A hello over the server's hello rate was told to come back later (kick `busy`).
    static func helloDeferred() { helloDeferrals.increment() }

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
        webhookCounter(project: project, result: delivered ? "delivered" : "failed").increment()
    }

    /// A project's webhook delivery counters, both results, registered (at zero when new).
    static func webhookProject(_ project: ProjectID) {
        _ = webhookCounter(project: project, result: "delivered")
        _ = webhookCounter(project: project, result: "failed")
    }

    private static func webhookCounter(project: ProjectID, result: String) -> Metrics.Counter {
        Metrics.Counter(
            label: "tether_webhook_deliveries_total", dimensions: [("project", project), ("result", result)],
            factory: factory)
    }

    private static let reportedProjects = Mutex<Set<ProjectID>>([])

    /// Sets the pool gauges (`tether_slots{project,state}`, `tether_sessions{project,state}`) from the
    /// broker's counts; projects gone since the last scrape drop to 0.
    static func updatePools(_ counts: [ProjectID: ConcurrencyCount]) {
        pools.withLock { _ in setPools(counts) }
    }

    /// Sets the pool gauges to `counts` and renders the registry, with no other server of this process setting
    /// them in between (tests run many servers in one process: another's update zeroed this one's projects
    /// between its update and its render, MetricsTests under the full suite).
    static func render(pools counts: [ProjectID: ConcurrencyCount]) -> [UInt8] {
        pools.withLock { _ in
            setPools(counts)
            return render()
        }
    }

    /// Held while the pool gauges are set (and rendered).
    private static let pools = Mutex(())

    private static func setPools(_ counts: [ProjectID: ConcurrencyCount]) {
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

    /// The Prometheus text exposition of everything recorded, then a `# TYPE` line for each family of
    /// ``families`` that has no series yet.
    static func render() -> [UInt8] {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        for family in families where !text.contains("# TYPE \(family.name) ") {
            bytes.append(contentsOf: "# TYPE \(family.name) \(family.type)\n".utf8)
        }
        return bytes
    }
}
