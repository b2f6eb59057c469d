import Foundation

/// A disturbance of `tether bench liveness` (issue 18).
enum LivenessDisturbance: String, CaseIterable, Sendable {
    /// 5 % of the healthy clients' heartbeats never sent.
    case loss
    /// Each heartbeat held up to 300 ms at random.
    case jitter
    /// A quarter of the healthy clients behave as a throttled background browser tab: application pings once a
    /// minute (against a 3 s timeout), the server's pings still answered.
    case throttled
    /// The server stopped for 2 s (SIGSTOP, then SIGCONT), mid-run.
    case stall
    /// Every core saturated by busy processes for the run.
    case cpu
    /// A burst of reconnecting clients (`livenessBurst`, all connecting at once) mid-run.
    case burst
    /// All of the above together.
    case all

    /// The disturbances this one stands for.
    var parts: Set<LivenessDisturbance> {
        self == .all ? Set(Self.allCases.filter { $0 != .all }) : [self]
    }
}

extension BenchScenarios {
    /// `liveness`: for each disturbance, a fresh server; healthy clients heartbeat (interval and timeout of the
    /// expiry scenarios) while silent clients fall silent at `livenessSilentRate` per second, answering nothing.
    /// Per disturbance: false expiries (a healthy client kicked or reported lost), detection lateness of the
    /// silent ones (p50/p99/max after their deadline, as in `expiry-steady`), and the kicks the healthy clients
    /// received. Goals: no false expiry anywhere; detection p99 within 10 ms (a stall of the server itself
    /// delays the deadlines that fall in it: reported, not excused).
    static func liveness(_ context: BenchContext, _ options: BenchOptions) async throws -> ScenarioResult {
        let chosen =
            options.livenessDisturbances.isEmpty
            ? LivenessDisturbance.allCases
            : try options.livenessDisturbances.map { name in
                guard let d = LivenessDisturbance(rawValue: name) else {
                    throw BenchError(
                        "unknown disturbance '\(name)' (\(LivenessDisturbance.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                return d
            }
        var result = makeResult(
            "liveness",
            [
                "healthyClients": Double(options.livenessHealthy), "silentClients": Double(options.livenessSilent),
                "silentPerSecond": options.livenessSilentRate, "intervalMs": Double(options.intervalMs),
                "timeoutMs": Double(options.timeoutMs),
            ])
        for disturbance in chosen {
            WorkerIO.say("    … \(disturbance.rawValue)")
            let one = try await scenario(context) { tracker in
                try await livenessRun(context, options, tracker, disturbance)
            }
            let prefix = disturbance.rawValue + "."
            result.figures.merge(one.figures.map { (prefix + $0.key, $0.value) }) { $1 }
            result.goal(prefix + "falseExpiries", "<=", 0)
            result.goal(prefix + "detectionP99Ms", "<=", 10)
            result.serverCPU = result.serverCPU + one.serverCPU
            result.loadCPU = result.loadCPU + one.loadCPU
            result.windowSeconds += one.windowSeconds
            result.notes += one.notes.map { prefix + " " + $0 }
            result.lateness[disturbance.rawValue] = one.lateness[""]
        }
        return result
    }

    private static func livenessRun(
        _ context: BenchContext, _ options: BenchOptions, _ tracker: BenchScenarios.Tracker,
        _ disturbance: LivenessDisturbance
    ) async throws -> ScenarioResult {
        var result = makeResult("liveness-" + disturbance.rawValue, [:])
        let parts = disturbance.parts
        let server = tracker.track(try await context.startServer())
        let project = "live"
        let burst = parts.contains(.burst) ? options.livenessBurst : 0
        try await context.createProject(
            server, id: project, capacity: options.livenessHealthy + options.livenessSilent + burst + 10,
            intervalMs: options.intervalMs, timeoutMs: options.timeoutMs)
        func config(_ role: WorkerConfig.Role, _ prefix: String, intervalMs: Int64) -> WorkerConfig {
            var c = context.workerConfig(
                role, projectId: project, userPrefix: prefix, transport: options.transport, intervalMs: intervalMs,
                timeoutMs: options.timeoutMs)
            if parts.contains(.loss) { c.dropRate = 0.05 }
            if parts.contains(.jitter) { c.jitterMs = 300 }
            return c
        }
        let throttled = parts.contains(.throttled) ? options.livenessHealthy / 4 : 0
        var healthy = tracker.track(
            try await context.spawnWorkers(
                server, config(.heartbeat, "h-", intervalMs: options.intervalMs),
                total: options.livenessHealthy - throttled))
        if throttled > 0 {
            healthy += tracker.track(
                try await context.spawnWorkers(server, config(.heartbeat, "t-", intervalMs: 60_000), total: throttled))
        }
        var silentConfig = config(.expire, "s-", intervalMs: options.intervalMs)
        silentConfig.expireRate = options.livenessSilentRate
        let silent = tracker.track(try await context.spawnWorkers(server, silentConfig, total: options.livenessSilent))

        var burners: [BenchChildProcess] = []
        if parts.contains(.cpu) {
            for i in 0..<max(1, ProcessInfo.processInfo.activeProcessorCount) {
                burners.append(
                    try BenchChildProcess(
                        executable: "/bin/sh", arguments: ["-c", "while :; do :; done"],
                        stderrPath: "\(context.directory)/burner-\(i).log"))
            }
        }
        defer { for burner in burners { burner.signal(SIGKILL) } }

        let startMs = BenchProc.wallMs() + 1_000
        let spanMs = Double(options.livenessSilent) * 1_000 / max(1, options.livenessSilentRate)
        context.start(silent + healthy, at: startMs)
        await context.sleep(until: startMs)
        let cpu0 = server.cpu
        // The stall runs in its own task, so that it keeps its place in the timeline while the burst connects.
        let stallWanted = parts.contains(.stall)
        let stalling = Task { () async -> (from: Double, to: Double)? in
            guard stallWanted else { return nil }
            let delay = startMs + spanMs / 2 - BenchProc.wallMs()
            if delay > 0 { try? await Task.sleep(for: .milliseconds(Int64(delay))) }
            let stoppedMs = BenchProc.wallMs()
            server.signal(SIGSTOP)
            try? await Task.sleep(for: .seconds(2))
            server.signal(SIGCONT)
            return (stoppedMs, BenchProc.wallMs())
        }
        var late: [BenchWorkerHandle] = []
        var burstMs: Double?
        if parts.contains(.burst) {
            await context.sleep(until: startMs + spanMs / 3)
            burstMs = BenchProc.wallMs()
            var c = config(.heartbeat, "b-", intervalMs: options.intervalMs)
            c.connectConcurrency = burst
            late = tracker.track(try await context.spawnWorkers(server, c, total: burst))
            context.start(late, at: BenchProc.wallMs())
        }
        let stall = await stalling.value
        let silentResults = try await context.results(
            silent, timeout: (spanMs + Double(options.timeoutMs)) / 1_000 + 60)
        let cpu1 = server.cpu
        // Healthy clients stay at least a timeout past the last silent one's deadline.
        await context.sleep(until: BenchProc.wallMs() + Double(options.timeoutMs))
        context.stop(healthy + late)
        let healthyResults = try await context.results(healthy + late)
        for burner in burners { burner.signal(SIGKILL) }
        burners = []

        let events = try await context.events(server, projectId: project)
        let lateness = Lateness(silent: silentResults, events: events, timeoutMs: options.timeoutMs)
        let healthyClients = healthyResults.flatMap(\.clients)
        let convicted = healthyClients.filter { $0.kickMs != nil || lateness.lost[$0.sessionId] != nil }
        // A silent client convicted before it went silent (no last ping sent) was a healthy one then.
        let convictedEarly = silentResults.flatMap(\.clients).filter { c in
            c.lastSendMs == nil && (c.kickMs != nil || lateness.lost[c.sessionId] != nil)
        }.count
        result.figures["falseExpiries"] = Double(convicted.count + convictedEarly)
        result.figures["convictedBeforeSilence"] = Double(convictedEarly)
        result.figures["healthyKicks"] = Double(healthyClients.filter { $0.kickMs != nil }.count)
        result.figures["healthyClients"] = Double(healthyResults.reduce(0) { $0 + $1.welcomed })
        result.figures["silentClients"] = Double(silentResults.reduce(0) { $0 + $1.welcomed })
        result.figures["missedExpiries"] = Double(lateness.missed)
        result.figures["prematureExpiries"] = Double(lateness.premature)
        result.lateness[""] = lateness.detection
        if let d = LatencySummary(lateness.detection) {
            result.figures["detectionP50Ms"] = d.p50
            result.figures["detectionP99Ms"] = d.p99
            result.figures["detectionMaxMs"] = d.max
        }
        // The deadlines that fell while the server was stopped: their lateness counted from when it ran again.
        if let stall {
            let fromResume = zip(lateness.detectedDeadlines, lateness.detection).compactMap { deadline, late in
                (stall.from...stall.to).contains(deadline) ? deadline + late - stall.to : nil
            }
            result.figures["deadlinesInStall"] = Double(fromResume.count)
            if let r = LatencySummary(fromResume) {
                result.figures["inStallFromResumeP50Ms"] = r.p50
                result.figures["inStallFromResumeMaxMs"] = r.max
            }
        }
        result.notes += lateness.prematureDetails.prefix(5)
        let reasons = Dictionary(grouping: convicted.compactMap(\.kickReason), by: { $0 }).mapValues(\.count)
        if !reasons.isEmpty { result.notes.append("healthy clients kicked: \(reasons)") }
        for c in convicted.prefix(5) {
            // The session's own events (type@at, with a cause), to tell a lost record from a reconnect.
            let trail = events.filter { $0.sessionId == c.sessionId }.map { e in
                "\(e.type)@\(e.at)" + (e.data?["cause"].map { "(\($0))" } ?? "")
            }
            result.notes.append(
                "healthy \(c.sessionId) convicted: lost at \(lateness.lost[c.sessionId].map(String.init) ?? "-"), kick "
                    + "\(c.kickReason ?? "none"), closed at \(c.closedMs.map { String(Int64($0)) } ?? "-"); run from "
                    + "\(Int64(startMs)), burst from \(burstMs.map { String(Int64($0)) } ?? "-"); events: "
                    + trail.joined(separator: " "))
        }
        result.serverCPU = cpu1 - cpu0
        result.loadCPU = loadCPU(silentResults + healthyResults)
        result.windowSeconds = (BenchProc.wallMs() - startMs) / 1_000
        return result
    }
}
