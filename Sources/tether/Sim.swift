import ArgumentParser
import Foundation
import TetherClient

/// `tether sim`: simulated end users against a running server, to see it hold sessions under churn, kills,
/// silent clients and suspensions, and how late it notices the silent ones.
///
/// It creates (or updates) a project with capacity for everyone and short heartbeats, reads the server's
/// event stream to judge every disconnect against what the simulator did, and prints a summary. Past one
/// process's open-file limit (or with `--processes`), it runs copies of itself as workers, each with its share
/// of the clients, and adds up their reports.
struct Sim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate end-user clients (WebSocket, TCP, HTTP heartbeats) against a running server.")

    @OptionGroup var options: BackendOptions
    @Option(help: "The project to use (created, or updated to fit).") var project = "sim"
    @Option(help: "Simulated clients at the start.") var clients = 100
    @Option(help: "Seconds to run (after every client connected).") var duration = 30.0
    @Option(help: "ws, tcp, http or mix (a third each).") var transport = "mix"
    @Option(help: "Percent of clients that leave with bye during the run; a new user joins for each.")
    var churn = 0.0
    @Option(help: "Percent of clients whose transport is dropped without bye; they resume with their resume token.")
    var kill = 0.0
    @Option(help: "Percent of clients that stop sending without closing; the server must detect them.")
    var silent = 0.0
    @Option(help: "Percent of clients that suspend, then come back after --suspend-ms.")
    var suspend = 0.0
    @Option(name: .customLong("suspend-ms"), help: "How long a suspension lasts.") var suspendMs: Int64 = 2_000
    @Option(name: .customLong("heartbeat-interval-ms"), help: "The project's heartbeat interval.")
    var intervalMs: Int64 = 1_000
    @Option(name: .customLong("heartbeat-timeout-ms"), help: "The project's heartbeat timeout.")
    var timeoutMs: Int64 = 3_000
    @Option(name: .customLong("grace-ms"), help: "The project's reconnect grace window.") var graceMs: Int64 = 10_000
    @Option(help: "Worker processes (0: as many as the open-file limit needs).") var processes = 0
    @Option(
        name: .customLong("source-addresses"),
        help: "Loopback source addresses to spread connections over (127.0.0.2 upward; 0: none).")
    var sourceAddresses = 8
    @Option(name: .customLong("ramp-concurrency"), help: "Sessions created at once while ramping up.")
    var rampConcurrency = 32
    @Option(help: "Seed of the plan (who does what, when).") var seed: UInt64 = 1
    @Option(name: .customLong("worker-spec"), help: .hidden) var workerSpec: String?

    func validate() throws {
        guard ["ws", "tcp", "http", "mix"].contains(transport) else {
            throw ValidationError("--transport must be ws, tcp, http or mix")
        }
        for (name, value) in [("churn", churn), ("kill", kill), ("silent", silent), ("suspend", suspend)]
        where !(0...100).contains(value) {
            throw ValidationError("--\(name) must be a percentage (0...100)")
        }
        if churn + kill + silent + suspend > 100 { throw ValidationError("the percentages add up to more than 100") }
        if clients < 1 { throw ValidationError("--clients must be at least 1") }
        if duration <= 0 { throw ValidationError("--duration must be positive") }
        if processes < 0 { throw ValidationError("--processes must be 0 or more") }
    }

    func run() async throws {
        if let workerSpec { return try await runWorker(workerSpec) }
        try await runBackendCommand {
            let backend = try options.backend()
            try await prepareProject(backend)
            let after = try await latestCursor(backend)
            let runId = "sim" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let count =
                processes > 0
                ? processes : (clients + SimLimits.clientsPerProcess() - 1) / SimLimits.clientsPerProcess()
            let specs = split(
                into: max(1, min(count, clients)), url: backend.url.absoluteString, runId: runId, after: after)
            let live = SimLiveLine(enabled: isatty(1) == 1 && !options.json)
            let report: SimReport
            if specs.count == 1 {
                report = await SimWorker.run(specs[0], apiKey: backend.apiKey) { live.show($0) }
            } else {
                report = try await SimProcesses.run(specs, apiKey: backend.apiKey) { live.show($0) }
            }
            live.finish()
            let cpu = specs.count == 1 ? report.cpuSeconds : report.cpuSeconds + SimLimits.cpuSeconds()
            let summary = SimSummary(
                report, project: project, transport: transport, duration: .milliseconds(Int64(duration * 1_000)),
                processes: specs.count, cpuSeconds: cpu)
            if options.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                Output.line(String(decoding: try encoder.encode(summary), as: UTF8.self))
            } else {
                Output.line(summary.text)
            }
        }
    }

    /// A worker: runs its spec, prints progress and its report as JSON lines.
    private func runWorker(_ text: String) async throws {
        let spec = try JSONDecoder().decode(SimSpec.self, from: Data(text.utf8))
        let apiKey = ProcessInfo.processInfo.environment["TETHER_API_KEY"]
        let encoder = JSONEncoder()
        let report = await SimWorker.run(spec, apiKey: apiKey) { progress in
            if let data = try? encoder.encode(SimWorkerLine(progress: progress)) {
                Output.line(String(decoding: data, as: UTF8.self))
            }
        }
        Output.line(String(decoding: try encoder.encode(SimWorkerLine(report: report)), as: UTF8.self))
    }

    /// Creates the project with room for every client and the sim's heartbeat policy, or updates it to fit.
    private func prepareProject(_ backend: TetherBackend) async throws {
        let needed = clients + max(16, clients / 20)
        var policy = TetherBackend.Policy(
            capacity: needed, heartbeatIntervalMs: intervalMs, heartbeatTimeoutMs: timeoutMs,
            reconnectGraceMs: graceMs)
        do {
            let existing = try await backend.project(project)
            policy.capacity = max(existing.capacity, needed)
            _ = try await backend.updateProject(project, policy)
        } catch let error as TetherAPIError where error.status == 404 {
            _ = try await backend.createProject(id: project, policy: policy)
        }
    }

    /// The newest event's cursor (0 when there is none): an exponential then binary search on
    /// `GET /v1/events?after=&limit=1`, since the API has no "latest" call.
    private func latestCursor(_ backend: TetherBackend) async throws -> UInt64 {
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
    private func split(into count: Int, url: String, runId: String, after: UInt64) -> [SimSpec] {
        (0..<count).map { i in
            let first = clients * i / count
            let last = clients * (i + 1) / count
            return SimSpec(
                url: url, project: project, clients: last - first, firstUser: first, runId: runId, afterCursor: after,
                transport: transport, churn: churn, kill: kill, silent: silent, suspend: suspend,
                durationMs: Int64(duration * 1_000), suspendMs: suspendMs, intervalMs: intervalMs,
                timeoutMs: timeoutMs, seed: seed, sources: sourceAddresses, rampConcurrency: rampConcurrency)
        }
    }
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
