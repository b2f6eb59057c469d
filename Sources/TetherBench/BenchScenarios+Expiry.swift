extension BenchScenarios {
    /// `expiry-steady` (`rate` > 0) and `expiry-burst` (`rate` 0): `sessions` clients heartbeat, then each
    /// sends a last ping (all at once for a burst, otherwise `rate` per second) and falls silent, answering
    /// nothing, not even the server's pings. Meanwhile `healthy` clients keep heartbeating.
    ///
    /// Detection lateness of a silent client = the `at` of its `session.disconnected` (cause
    /// `heartbeatTimeout`) − (`st` of the pong to its last ping + `timeoutMs`): how long after its deadline,
    /// as the server acknowledged its last heartbeat, the server declared it lost. Kick lateness uses the
    /// arrival of the `kick` at the client instead of the event's `at`. False expiries are healthy clients
    /// kicked or reported disconnected.
    static func expiry(
        _ context: BenchContext, _ options: BenchOptions, name: String, sessions: Int, rate: Double
    ) async throws -> ScenarioResult {
        try await scenario(context) { tracker in
            var result = makeResult(
                name,
                [
                    "sessions": Double(sessions), "ratePerSecond": rate, "healthyClients": Double(options.healthy),
                    "intervalMs": Double(options.intervalMs), "timeoutMs": Double(options.timeoutMs),
                ])
            let server = tracker.track(try await context.startServer())
            let project = "bench"
            try await context.createProject(
                server, id: project, capacity: sessions + options.healthy + 10, intervalMs: options.intervalMs,
                timeoutMs: options.timeoutMs)
            let healthy = tracker.track(
                try await context.spawnWorkers(
                    server,
                    context.workerConfig(
                        .heartbeat, projectId: project, userPrefix: "h-", transport: options.transport,
                        intervalMs: options.intervalMs, timeoutMs: options.timeoutMs), total: options.healthy))
            var silentConfig = context.workerConfig(
                .expire, projectId: project, userPrefix: "s-", transport: options.transport,
                intervalMs: options.intervalMs, timeoutMs: options.timeoutMs)
            silentConfig.expireRate = rate
            let silent = tracker.track(try await context.spawnWorkers(server, silentConfig, total: sessions))

            let startMs = BenchProc.wallMs() + 1_000
            let spanMs = rate > 0 ? Double(sessions) * 1_000 / rate : 0
            context.start(silent + healthy, at: startMs)
            await context.sleep(until: startMs)
            let cpu0 = server.cpu
            let silentResults = try await context.results(
                silent, timeout: (spanMs + Double(options.timeoutMs)) / 1_000 + 60)
            let cpu1 = server.cpu
            let windowSeconds = (BenchProc.wallMs() - startMs) / 1_000
            context.stop(healthy)
            let healthyResults = try await context.results(healthy)

            let events = try await context.events(server, projectId: project)
            let late = Lateness(silent: silentResults, events: events, timeoutMs: options.timeoutMs)
            let (lost, detection, kick, fromSend, deadlines) = (
                late.lost, late.detection, late.kick, late.fromSend, late.deadlines
            )
            let (missed, premature) = (late.missed, late.premature)
            let healthyClients = healthyResults.flatMap(\.clients)
            let falseExpiries = healthyClients.filter { $0.kickMs != nil || lost[$0.sessionId] != nil }.count

            let welcomed = silentResults.reduce(0) { $0 + $1.welcomed }
            result.figures["silentClients"] = Double(welcomed)
            result.figures["healthyClients"] = Double(healthyResults.reduce(0) { $0 + $1.welcomed })
            result.lateness[""] = detection
            if let d = LatencySummary(detection) {
                result.figures["detectionP50Ms"] = d.p50
                result.figures["detectionP99Ms"] = d.p99
                result.figures["detectionMaxMs"] = d.max
            }
            if let k = LatencySummary(kick) {
                result.figures["kickP50Ms"] = k.p50
                result.figures["kickP99Ms"] = k.p99
                result.figures["kickMaxMs"] = k.max
            }
            if let s = LatencySummary(fromSend) { result.figures["fromLastSendP99Ms"] = s.p99 }
            if let first = deadlines.min(), let last = deadlines.max() {
                result.figures["deadlineSpreadMs"] = last - first
            }
            result.figures["falseExpiries"] = Double(falseExpiries)
            result.figures["missedExpiries"] = Double(missed)
            result.figures["prematureExpiries"] = Double(premature)
            result.serverCPU = cpu1 - cpu0
            result.loadCPU = loadCPU(silentResults + healthyResults)
            result.windowSeconds = windowSeconds
            if rate > 0 {
                result.goal("detectionP99Ms", "<=", 10)
                result.goal("detectionMaxMs", "<=", 50)
            } else {
                result.goal("detectionP99Ms", "<=", 50)
            }
            result.goal("falseExpiries", "<=", 0)
            result.goal("missedExpiries", "<=", 0)
            if welcomed < sessions { result.notes.append("only \(welcomed) of \(sessions) silent clients connected") }
            return result
        }
    }
}

/// How late the server declared silent clients lost: from their workers' records (the last ping's pong `st`,
/// kick arrivals) and the project's `session.disconnected` events (cause `heartbeatTimeout`).
struct Lateness {
    /// When each lost session's event says it was declared lost.
    var lost: [String: Int64] = [:]
    /// Event `at` − (`st` of the last pong + timeout), ms.
    var detection: [Double] = []
    /// Kick arrival − the same deadline, ms.
    var kick: [Double] = []
    /// Event `at` − (the client's own last send + timeout), ms.
    var fromSend: [Double] = []
    /// Every deadline (ms).
    var deadlines: [Double] = []
    /// The deadline of each entry of ``detection``, in the same order.
    var detectedDeadlines: [Double] = []
    /// Silent clients never declared lost.
    var missed = 0
    /// Clients declared lost before their deadline.
    var premature = 0
    /// What is known of each premature one, for the notes.
    var prematureDetails: [String] = []

    init(silent: [WorkerResult], events: [EventSummary], timeoutMs: Int64) {
        for e in events where e.type == "session.disconnected" && e.data?["cause"] == "heartbeatTimeout" {
            if let id = e.sessionId { lost[id] = e.at }
        }
        let timeout = Double(timeoutMs)
        for client in silent.flatMap(\.clients) {
            guard let st = client.lastPongSt else {
                // Never acknowledged its last ping: it was cut off before (or never connected).
                if client.kickMs != nil || lost[client.sessionId] != nil {
                    premature += 1
                    prematureDetails.append(
                        "\(client.sessionId): cut off before its last ping's pong (kick \(client.kickReason ?? "none") at "
                            + "\(client.kickMs.map { String(Int64($0)) } ?? "-"), lost at \(lost[client.sessionId].map(String.init) ?? "-"), "
                            + "last send \(client.lastSendMs.map { String(Int64($0)) } ?? "-"))")
                } else {
                    missed += 1
                }
                continue
            }
            let deadline = Double(st) + timeout
            deadlines.append(deadline)
            if let at = lost[client.sessionId] {
                detection.append(Double(at) - deadline)
                detectedDeadlines.append(deadline)
                if let sent = client.lastSendMs {
                    fromSend.append(Double(at) - (sent + timeout))
                    // Before the client's own send time + timeout (1 ms for the event's resolution).
                    if Double(at) < sent + timeout - 1 {
                        premature += 1
                        prematureDetails.append(
                            "\(client.sessionId): lost at \(at), its last send \(Int64(sent)) + timeout, pong st \(st)")
                    }
                }
            } else {
                missed += 1
            }
            if let k = client.kickMs, client.kickReason == "expired" { kick.append(k - deadline) }
        }
    }
}
