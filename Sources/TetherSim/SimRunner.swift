import Foundation
import TetherClient
import TetherProtocol

/// What one `tether sim` run does, as plain values (the command line's flags, already validated).
public struct SimOptions: Sendable {
    /// The project to use (created, or updated to fit).
    public var project = "sim"
    /// Simulated clients at the start.
    public var clients = 100
    /// Seconds to run (after every client connected).
    public var duration = 30.0
    /// `ws`, `tcp`, `http` or `mix` (a third each).
    public var transport = "mix"
    /// Percent of clients that leave with bye during the run (a new user joins for each).
    public var churn = 0.0
    /// Percent of clients whose transport is dropped without bye (they resume with their resume token).
    public var kill = 0.0
    /// Percent of clients that stop sending without closing (the server must detect them).
    public var silent = 0.0
    /// Percent of clients that suspend, then come back after ``suspendMs``.
    public var suspend = 0.0
    /// How long a suspension lasts.
    public var suspendMs: Int64 = 2_000
    /// The project's heartbeat interval.
    public var intervalMs: Int64 = 1_000
    /// The project's heartbeat timeout.
    public var timeoutMs: Int64 = 3_000
    /// The project's reconnect grace window.
    public var graceMs: Int64 = 10_000
    /// Worker processes (0: as many as the open-file limit needs).
    public var processes = 0
    /// Loopback source addresses to spread connections over (127.0.0.2 upward; 0: none).
    public var sourceAddresses = 8
    /// Sessions created at once while ramping up.
    public var rampConcurrency = 32
    /// Seed of the plan (who does what, when).
    public var seed: UInt64 = 1
    /// Seconds clients may take to finish after ``duration``; the run then ends without those still running.
    public var drain = 15.0
    /// Trust only the CA certificates of this PEM file for `https://`, `wss://` and `tls://` (`--ca-file`).
    public var caFile: String?
    /// Disturbances of the WebSocket and TCP clients' heartbeats (issue 18): percent never sent, the most each
    /// is held (ms), and the percent of clients that behave as a throttled background tab (a heartbeat a minute,
    /// the server's pings still answered). HTTP clients are not disturbed: they cannot answer a probe.
    public var loss = 0.0
    public var jitterMs: Int64 = 0
    public var throttled = 0.0
    /// The niceness of the worker processes (0: as this process). A benchmark that shares its machine with
    /// the server raises it, so that the load it makes does not take the CPU of the server it measures.
    public var workerNice: Int32 = 0

    /// The defaults of `tether sim`.
    public init() {}
}

/// `tether sim`: simulated end users against a running server, to see it hold sessions under churn, kills,
/// silent clients and suspensions, and how late it notices the silent ones.
///
/// It creates (or updates) a project with capacity for everyone and short heartbeats, reads the server's
/// event stream to judge every disconnect against what the simulator did, and prints a summary. Past one
/// process's open-file limit (or with ``SimOptions/processes``), it runs copies of this binary as workers
/// (`tether sim --worker-spec <json>`, which calls ``runWorker(spec:)``), each with its share of the clients,
/// and adds up their reports.
public enum SimRunner {
    /// Runs the simulation against `backend`; returns the summary (one line of JSON when `json`, else text for
    /// people). Shows a progress line meanwhile when stdout is a terminal and `json` is off.
    public static func run(_ options: SimOptions, backend: TetherBackend, json: Bool) async throws -> String {
        let (_, summary) = try await simulate(options, backend: backend, live: isatty(1) == 1 && !json)
        guard json else { return summary.text }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(summary), as: UTF8.self)
    }

    /// Runs the simulation for a program (the benchmark's storm): what happened, with the times of the
    /// outages the sim did not cause.
    public static func outcome(_ options: SimOptions, backend: TetherBackend) async throws -> SimOutcome {
        let (report, summary) = try await simulate(options, backend: backend, live: false)
        return SimOutcome(
            clients: report.clients, connected: report.connected, heldAtEnd: report.heldAtEnd,
            outageStartMs: report.outageStartMs, outageEndMs: report.outageEndMs, outagesOpen: report.outagesOpen,
            unfinished: report.unfinished, falseDisconnects: report.falseDisconnects, errors: report.errors,
            notes: report.notes, text: summary.text)
    }

    private static func simulate(_ options: SimOptions, backend: TetherBackend, live showing: Bool) async throws
        -> (SimReport, SimSummary)
    {
        try await prepareProject(options, backend)
        let after = try await latestCursor(backend)
        let runId = "sim" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let count =
            options.processes > 0
            ? options.processes
            : (options.clients + SimLimits.clientsPerProcess() - 1) / SimLimits.clientsPerProcess()
        let specs = split(
            options, into: max(1, min(count, options.clients)),
            url: backend.urls.map(\.absoluteString).joined(separator: ","), runId: runId,
            after: after)
        let live = SimLiveLine(enabled: showing)
        let report: SimReport
        if specs.count == 1 {
            report = await SimWorker.run(specs[0], apiKey: backend.apiKey) { live.show($0) }
        } else {
            report = try await SimProcesses.run(specs, apiKey: backend.apiKey, nice: options.workerNice) {
                live.show($0)
            }
        }
        live.finish()
        let cpu = specs.count == 1 ? report.cpuSeconds : report.cpuSeconds + SimLimits.cpuSeconds()
        let summary = SimSummary(
            report, project: options.project, transport: options.transport,
            duration: .milliseconds(Int64(options.duration * 1_000)), processes: specs.count, cpuSeconds: cpu)
        return (report, summary)
    }

    /// A worker process (`tether sim --worker-spec <json>`): runs its spec (the API key comes from
    /// `TETHER_API_KEY`), prints progress and its report on stdout as JSON lines.
    public static func runWorker(spec text: String) async throws {
        let spec = try JSONDecoder().decode(SimSpec.self, from: Data(text.utf8))
        let apiKey = ProcessInfo.processInfo.environment["TETHER_API_KEY"]
        let encoder = JSONEncoder()
        let report = await SimWorker.run(spec, apiKey: apiKey) { progress in
            if let data = try? encoder.encode(SimWorkerLine(progress: progress)) {
                line(String(decoding: data, as: UTF8.self))
            }
        }
        line(String(decoding: try encoder.encode(SimWorkerLine(report: report)), as: UTF8.self))
    }

    /// A line on stdout.
    private static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Creates the project with room for every client and the sim's heartbeat policy, or updates it to fit.
    private static func prepareProject(_ options: SimOptions, _ backend: TetherBackend) async throws {
        let needed = options.clients + max(16, options.clients / 20)
        var policy = TetherBackend.Policy(
            capacity: needed, heartbeatIntervalMs: options.intervalMs, heartbeatTimeoutMs: options.timeoutMs,
            reconnectGraceMs: options.graceMs)
        do {
            let existing = try await backend.project(options.project)
            policy.capacity = max(existing.capacity, needed)
            _ = try await backend.updateProject(options.project, policy)
        } catch let error as TetherAPIError where error.status == 404 {
            _ = try await backend.createProject(id: options.project, policy: policy)
        }
    }

    /// The newest event's cursor (0 when there is none): an exponential then binary search on
    /// `GET /v1/events?after=&limit=1`, since the API has no "latest" call.
    private static func latestCursor(_ backend: TetherBackend) async throws -> UInt64 {
        func any(after cursor: UInt64) async throws -> Bool {
            do {
                return try await !backend.events(after: cursor, limit: 1).events.isEmpty
            } catch let error as TetherAPIError where error.status == 410 {
                return true  // pruned below the cursor: newer events exist
            }
        }
        var high: UInt64 = 1
        while try await any(after: high) { high *= 2 }
        var low: UInt64 = high / 2  // events after `low` exist (or low is 0)
        while low + 1 < high {
            let middle = low + (high - low) / 2
            if try await any(after: middle) { low = middle } else { high = middle }
        }
        return try await any(after: low) ? low + 1 : low
    }

    /// The clients split evenly over `count` processes.
    private static func split(_ o: SimOptions, into count: Int, url: String, runId: String, after: UInt64)
        -> [SimSpec]
    {
        (0..<count).map { i in
            let first = o.clients * i / count
            let last = o.clients * (i + 1) / count
            return SimSpec(
                url: url, project: o.project, clients: last - first, firstUser: first, runId: runId,
                afterCursor: after, transport: o.transport, churn: o.churn, kill: o.kill, silent: o.silent,
                suspend: o.suspend, durationMs: Int64(o.duration * 1_000), suspendMs: o.suspendMs,
                intervalMs: o.intervalMs, timeoutMs: o.timeoutMs, seed: o.seed, sources: o.sourceAddresses,
                rampConcurrency: o.rampConcurrency, drainMs: Int64(o.drain * 1_000), caFile: o.caFile, loss: o.loss,
                jitterMs: o.jitterMs, throttled: o.throttled)
        }
    }
}

/// What a sim run gave (``SimRunner/outcome(_:backend:)``).
public struct SimOutcome: Sendable {
    /// Clients at the start, and how many connected.
    public var clients: Int
    public var connected: Int
    /// Sessions live just before the final `bye`s.
    public var heldAtEnd: Int
    /// Outages the sim did not cause: when each began and when its client was back (Unix ms, aligned), and
    /// when the ones never over began.
    public var outageStartMs: [Double]
    public var outageEndMs: [Double]
    public var outagesOpen: [Double]
    /// Clients still running when the drain ran out.
    public var unfinished: Int
    /// Server disconnects and ends the sim did not cause.
    public var falseDisconnects: Int
    /// Failed operations, and a few examples.
    public var errors: Int
    public var notes: [String]
    /// The summary for people.
    public var text: String
}

/// The progress line on a terminal: rewritten in place (carriage return) with each update, about once a second.
final class SimLiveLine: Sendable {
    private let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ progress: SimProgress) {
        guard enabled else { return }
        FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + progress.line).utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
    }
}
