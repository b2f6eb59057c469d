import Foundation

/// What one sim process counted; the parent adds up its workers' reports into a ``SimSummary``.
struct SimReport: Codable, Sendable {
    /// Clients at the start, by transport.
    var clients = 0
    var websocket = 0
    var tcp = 0
    var http = 0
    /// First connections that succeeded, and sessions that could not be created or connected.
    var connected = 0
    var connectFailures = 0
    /// Sessions live (connected or suspended) just before the final `bye`s, and the most at any second.
    var heldAtEnd = 0
    var peakHeld = 0
    /// Churn: clients that left with `bye`, and new users that joined in their place.
    var churnLeft = 0
    var churnJoined = 0
    /// Abrupt kills, and how the resumes went.
    var kills = 0
    var killsSameConcurrency = 0
    var killsOtherConcurrency = 0
    var killsNotBack = 0
    /// Silent clients, how many the server declared lost by heartbeat timeout, and how late (ms; see
    /// docs/BEHAVIOUR.md "Simulator"): `lateness` from the event's `at`, `noticeLateness` from its arrival here.
    var silent = 0
    var silentDetected = 0
    var lateness: [Double] = []
    var noticeLateness: [Double] = []
    /// Suspensions declared, and how many came back to `connected`.
    var suspensions = 0
    var suspensionsResumed = 0
    /// Clients behaving as a throttled background tab (`--throttled`).
    var throttled = 0
    /// Server events (`session.disconnected`, `session.ended`) for sessions the sim had not let go of.
    var falseDisconnects = 0
    /// Losses the SDK clients saw without the sim causing them (a reconnect, or an end).
    var clientLosses = 0
    /// HTTP heartbeats the sim itself sent more than the timeout after the previous one (it was starved of CPU):
    /// a server that expires those sessions is right, and the false disconnects they cause are the sim's.
    var lateHeartbeats = 0
    /// Outages the sim did not cause (a server that died or stalled, a connection reset): when each began
    /// and, for those that ended, when the client was back (Unix ms, aligned); `outagesOpen` began at these
    /// times and were not over when the client stopped.
    var outageStartMs: [Double] = []
    var outageEndMs: [Double] = []
    var outagesOpen: [Double] = []
    /// Clients whose script had not finished `drain` after the end of the run; the run ended without them.
    var unfinished = 0
    /// Failed operations (a create, a connect, a heartbeat answered with an error).
    var errors = 0
    /// A few examples of the above, for people.
    var notes: [String] = []
    /// CPU this process used (user + system, seconds), and the wall time of its run.
    var cpuSeconds = 0.0
    var wallSeconds = 0.0

    /// Adds `other` to this report.
    mutating func merge(_ other: SimReport) {
        clients += other.clients
        websocket += other.websocket
        tcp += other.tcp
        http += other.http
        connected += other.connected
        connectFailures += other.connectFailures
        heldAtEnd += other.heldAtEnd
        peakHeld += other.peakHeld
        churnLeft += other.churnLeft
        churnJoined += other.churnJoined
        kills += other.kills
        killsSameConcurrency += other.killsSameConcurrency
        killsOtherConcurrency += other.killsOtherConcurrency
        killsNotBack += other.killsNotBack
        silent += other.silent
        silentDetected += other.silentDetected
        lateness += other.lateness
        noticeLateness += other.noticeLateness
        suspensions += other.suspensions
        suspensionsResumed += other.suspensionsResumed
        throttled += other.throttled
        falseDisconnects += other.falseDisconnects
        clientLosses += other.clientLosses
        lateHeartbeats += other.lateHeartbeats
        outageStartMs += other.outageStartMs
        outageEndMs += other.outageEndMs
        outagesOpen += other.outagesOpen
        unfinished += other.unfinished
        errors += other.errors
        notes += other.notes.prefix(max(0, 20 - notes.count))
        cpuSeconds += other.cpuSeconds
        wallSeconds = max(wallSeconds, other.wallSeconds)
    }
}

/// The live gauges of the progress line.
struct SimProgress: Codable, Sendable {
    var connected = 0
    var suspended = 0
    var reconnecting = 0
    var ended = 0
    var errors = 0

    mutating func add(_ other: SimProgress) {
        connected += other.connected
        suspended += other.suspended
        reconnecting += other.reconnecting
        ended += other.ended
        errors += other.errors
    }

    /// `connected 1998  suspended 12  reconnecting 3  ended 40  errors 0`.
    var line: String {
        "connected \(connected)  suspended \(suspended)  reconnecting \(reconnecting)  ended \(ended)  errors \(errors)"
    }
}

/// One line a worker prints on stdout: progress every second, its report at the end.
struct SimWorkerLine: Codable, Sendable {
    var progress: SimProgress?
    var report: SimReport?
}

/// The summary of a run (`--json` prints it).
struct SimSummary: Codable, Sendable {
    /// Percentiles of a set of samples (ms).
    struct Percentiles: Codable, Sendable, Hashable {
        var count: Int
        var p50: Double?
        var p99: Double?
        var max: Double?
        var min: Double?

        init(_ samples: [Double]) {
            let sorted = samples.sorted()
            count = sorted.count
            func at(_ q: Double) -> Double? {
                sorted.isEmpty
                    ? nil : sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)]
            }
            p50 = at(0.5)
            p99 = at(0.99)
            max = sorted.last
            min = sorted.first
        }
    }

    var project: String
    var transport: String
    var durationSeconds: Double
    var processes: Int
    var clients: Int
    var transports: [String: Int]
    var connected: Int
    var connectFailures: Int
    var sessionsHeldAtEnd: Int
    var peakSessionsHeld: Int
    var churnLeft: Int
    var churnJoined: Int
    var kills: Int
    var killsSameConcurrency: Int
    var killsOtherConcurrency: Int
    var killsNotBack: Int
    var silent: Int
    var silentDetected: Int
    var detectionLatenessMs: Percentiles
    var noticeLatenessMs: Percentiles
    var suspensions: Int
    var suspensionsResumed: Int
    var throttledClients: Int
    var falseDisconnects: Int
    var clientLosses: Int
    var lateHeartbeats: Int
    /// Outages the sim did not cause, how many were over (the client back) before it stopped, and how long
    /// those took; the ones never over.
    var outages: Int
    var outagesOver: Int
    var outageMs: Percentiles
    var outagesNotOver: Int
    /// When each outage never over began (Unix ms, oldest first): a crash's, or a late loss near the end.
    var outagesNotOverSinceMs: [Double]
    /// Clients still running when the drain after `--duration` ran out.
    var unfinished: Int
    var errors: Int
    var notes: [String]
    var cpuSeconds: Double
    var cpuPercentOfOneCore: Double

    init(_ r: SimReport, project: String, transport: String, duration: Duration, processes: Int, cpuSeconds: Double) {
        self.project = project
        self.transport = transport
        durationSeconds = Double(duration.wholeMilliseconds) / 1_000
        self.processes = processes
        clients = r.clients
        transports = ["ws": r.websocket, "tcp": r.tcp, "http": r.http]
        connected = r.connected
        connectFailures = r.connectFailures
        sessionsHeldAtEnd = r.heldAtEnd
        peakSessionsHeld = r.peakHeld
        churnLeft = r.churnLeft
        churnJoined = r.churnJoined
        kills = r.kills
        killsSameConcurrency = r.killsSameConcurrency
        killsOtherConcurrency = r.killsOtherConcurrency
        killsNotBack = r.killsNotBack
        silent = r.silent
        silentDetected = r.silentDetected
        detectionLatenessMs = Percentiles(r.lateness)
        noticeLatenessMs = Percentiles(r.noticeLateness)
        suspensions = r.suspensions
        suspensionsResumed = r.suspensionsResumed
        throttledClients = r.throttled
        falseDisconnects = r.falseDisconnects
        clientLosses = r.clientLosses
        lateHeartbeats = r.lateHeartbeats
        outages = r.outageStartMs.count + r.outagesOpen.count
        outagesOver = r.outageStartMs.count
        outageMs = Percentiles(zip(r.outageStartMs, r.outageEndMs).map { $1 - $0 })
        outagesNotOver = r.outagesOpen.count
        outagesNotOverSinceMs = r.outagesOpen.sorted()
        unfinished = r.unfinished
        errors = r.errors
        notes = r.notes
        self.cpuSeconds = cpuSeconds
        cpuPercentOfOneCore = r.wallSeconds > 0 ? (cpuSeconds / r.wallSeconds * 100).rounded() : 0
    }

    /// The summary for people.
    var text: String {
        func ms(_ v: Double?) -> String { v.map { String(format: "%.1f ms", $0) } ?? "-" }
        func spread(_ p: Percentiles) -> String { "p50 \(ms(p.p50)), p99 \(ms(p.p99)), max \(ms(p.max))" }
        return Self.fields([
            (
                "clients",
                "\(clients) (ws \(transports["ws"] ?? 0), tcp \(transports["tcp"] ?? 0), http \(transports["http"] ?? 0)) "
                    + "for \(durationSeconds) s on project \(project), \(processes) process\(processes == 1 ? "" : "es")"
            ),
            ("connected", "\(connected) at the start, \(connectFailures) failed"),
            ("sessions held", "\(sessionsHeldAtEnd) at the end, \(peakSessionsHeld) at the peak"),
            ("churn", "\(churnLeft) left with bye, \(churnJoined) joined"),
            (
                "kills",
                "\(kills): \(killsSameConcurrency) resumed on the same concurrency, \(killsOtherConcurrency) on another, "
                    + "\(killsNotBack) not back"
            ),
            ("silent", "\(silent): \(silentDetected) detected by heartbeat timeout"),
            ("detection lateness", spread(detectionLatenessMs) + " (event's at − last sent − timeout)"),
            ("notice lateness", spread(noticeLatenessMs) + " (event's arrival here − last sent − timeout)"),
            ("suspensions", "\(suspensions): \(suspensionsResumed) came back"),
            ("throttled tabs", "\(throttledClients) (a heartbeat a minute, the server's pings answered)"),
            ("false disconnects", String(falseDisconnects)),
            ("client-side losses", String(clientLosses)),
            ("late heartbeats", "\(lateHeartbeats) (HTTP heartbeats the sim sent past the timeout: it was starved)"),
            (
                "outages",
                "\(outages) the sim did not cause: \(outagesOver) over (\(spread(outageMs)) until back), "
                    + "\(outagesNotOver) not over"
            ),
            ("unfinished", "\(unfinished) clients still running when the drain ran out (the run ended without them)"),
            ("errors", String(errors)),
            ("sim CPU", String(format: "%.1f s (%.0f %% of one core)", cpuSeconds, cpuPercentOfOneCore)),
        ])
    }

    /// Key/value lines, keys aligned.
    private static func fields(_ pairs: [(String, String)]) -> String {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { $0.0.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.1 }.joined(
            separator: "\n")
    }
}
