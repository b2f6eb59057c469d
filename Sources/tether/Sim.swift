import ArgumentParser
import Foundation
import TetherSim

/// `tether sim`: the command line of ``SimRunner`` (TetherSim), which simulates end users against a running
/// server. `--worker-spec` (hidden) makes this process one of the run's workers.
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
    @Option(help: "Percent of the WebSocket and TCP clients' heartbeats never sent (a lossy network).")
    var loss = 0.0
    @Option(name: .customLong("jitter-ms"), help: "Each WebSocket or TCP heartbeat held up to this long, at random.")
    var jitterMs: Int64 = 0
    @Option(
        help:
            "Percent of the steady WebSocket and TCP clients that behave as a throttled background tab: a heartbeat a minute, the server's pings still answered."
    )
    var throttled = 0.0
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
    @Option(
        help:
            "Seconds clients may take to finish after --duration (a resume under way, the final bye); the run then ends and reports those still running."
    )
    var drain = 15.0
    @Option(help: "Seed of the plan (who does what, when).") var seed: UInt64 = 1
    @Flag(
        help:
            "A full pool with churn and a live waiting queue: every client cycles through users that apply with queue (waiting live when queued), hold a session, leave; reports how far the first etaMs was from the wait (one process, WebSocket)."
    )
    var queue = false
    @Option(help: "With --queue: the pool's capacity (default a quarter of --clients).") var capacity: Int?
    @Option(name: .customLong("session-ms"), help: "With --queue: the mean session length (uniform 0.5-1.5x).")
    var sessionMs: Int64 = 2_000
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
        if !(0..<100).contains(loss) { throw ValidationError("--loss must be a percentage below 100") }
        if !(0...100).contains(throttled) { throw ValidationError("--throttled must be a percentage (0...100)") }
        if !(0...60_000).contains(jitterMs) { throw ValidationError("--jitter-ms must be between 0 and 60000") }
        if clients < 1 { throw ValidationError("--clients must be at least 1") }
        if duration <= 0 { throw ValidationError("--duration must be positive") }
        if processes < 0 { throw ValidationError("--processes must be 0 or more") }
        if !(0...3_600).contains(drain) { throw ValidationError("--drain must be between 0 and 3600 seconds") }
        if let capacity, capacity < 1 { throw ValidationError("--capacity must be at least 1") }
        if sessionMs < 10 { throw ValidationError("--session-ms must be at least 10") }
        if !queue && capacity != nil { throw ValidationError("--capacity needs --queue") }
    }

    func run() async throws {
        if let workerSpec { return try await SimRunner.runWorker(spec: workerSpec) }
        if queue {
            var q = SimQueue.Options()
            q.project = project == "sim" ? "simq" : project
            q.clients = clients
            q.capacity = capacity ?? max(1, clients / 4)
            q.duration = .milliseconds(Int64(duration * 1_000))
            q.sessionMs = sessionMs
            q.seed = seed
            return try await runBackendCommand {
                let report = try await SimQueue.run(q, backend: try options.backend())
                if options.json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = .sortedKeys
                    Output.line(String(decoding: try encoder.encode(report), as: UTF8.self))
                } else {
                    Output.line(report.text)
                }
            }
        }
        var o = SimOptions()
        o.project = project
        o.clients = clients
        o.duration = duration
        o.transport = transport
        o.churn = churn
        o.kill = kill
        o.silent = silent
        o.suspend = suspend
        o.suspendMs = suspendMs
        o.intervalMs = intervalMs
        o.timeoutMs = timeoutMs
        o.graceMs = graceMs
        o.processes = processes
        o.sourceAddresses = sourceAddresses
        o.rampConcurrency = rampConcurrency
        o.seed = seed
        o.drain = drain
        o.loss = loss
        o.jitterMs = jitterMs
        o.throttled = throttled
        o.caFile =
            options.caFile ?? ProcessInfo.processInfo.environment["TETHER_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        try await runBackendCommand {
            Output.line(try await SimRunner.run(o, backend: try options.backend(), json: options.json))
        }
    }
}
