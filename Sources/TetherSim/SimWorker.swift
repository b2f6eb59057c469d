import Foundation
import NIOCore
import Synchronization
import TetherClient
import TetherProtocol

/// Everything one sim process needs to run its share of clients (the API key travels in the environment).
struct SimSpec: Codable, Sendable {
    /// The backend API's URLs, separated by commas (the nodes of a cluster).
    var url: String
    var project: String
    /// Clients of this process, and the number of its first one (user ids are `<runId>-<n>`).
    var clients: Int
    var firstUser: Int
    var runId: String
    /// Read server events after this cursor.
    var afterCursor: UInt64
    var transport: String
    var churn: Double
    var kill: Double
    var silent: Double
    var suspend: Double
    var durationMs: Int64
    var suspendMs: Int64
    var intervalMs: Int64
    var timeoutMs: Int64
    var seed: UInt64
    /// Loopback source addresses to spread over (127.0.0.2 upward), 0 for none.
    var sources: Int
    /// Sessions created at once during the ramp.
    var rampConcurrency: Int
    /// How long after the end clients may take to finish (a resume under way, the final `bye`); the run
    /// ends then without those still running, and the report counts them as unfinished.
    var drainMs: Int64 = 15_000
    /// Trust only the CA certificates of this PEM file for `https://`, `wss://` and `tls://` (`--ca-file`).
    var caFile: String?
    /// `--loss` (percent), `--jitter-ms`, `--throttled` (percent of clients).
    var loss: Double = 0
    var jitterMs: Int64 = 0
    var throttled: Double = 0
}

/// Runs one process's clients: creates their sessions, connects them, plays the plan for the duration, reads
/// the server's event stream to judge what happened, and returns the report.
enum SimWorker {
    static func run(_ spec: SimSpec, apiKey: String?, progress: @escaping @Sendable (SimProgress) -> Void) async
        -> SimReport
    {
        SimLimits.raiseFileLimit()
        let wallStart = ContinuousClock.now
        let ledger = SimLedger()
        let urls = spec.url.split(separator: ",").compactMap { URL(string: String($0)) }
        guard let url = urls.first else { return SimReport() }
        let tls: TetherTLS?
        do {
            tls = try spec.caFile.map { try TetherTLS.trusting(caFile: $0) }
        } catch {
            ledger.error("\(error)")
            return ledger.report
        }
        let backend = TetherBackend(urls: urls, apiKey: apiKey, tls: tls)
        let duration = Duration.milliseconds(spec.durationMs)
        let plan = SimPlan(
            count: spec.clients, transport: spec.transport,
            mix: .init(churn: spec.churn, kill: spec.kill, silent: spec.silent, suspend: spec.suspend),
            duration: duration, suspendLength: .milliseconds(spec.suspendMs),
            seed: spec.seed &+ UInt64(spec.firstUser))
        ledger.count {
            $0.clients = spec.clients
            $0.websocket = plan.transports.filter { $0 == .websocket }.count
            $0.tcp = plan.transports.filter { $0 == .tcp }.count
            $0.http = plan.transports.filter { $0 == .http }.count
        }

        // The server's view, judged as it comes.
        var feed = TetherEventStream(url: url, apiKey: apiKey, project: spec.project)
        feed.alternates = Array(urls.dropFirst())
        feed.tls = tls ?? .system
        let reader = Task {
            let decoder = JSONDecoder()
            do {
                for try await message in feed.follow(after: spec.afterCursor) {
                    guard let event = try? decoder.decode(TetherBackend.Event.self, from: Data(message.data.utf8))
                    else { continue }
                    ledger.observe(event, arrivedMs: SimLedger.nowMs())
                }
            } catch {
                ledger.error("event stream: \(error)")
            }
        }
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                progress(ledger.progress)
            }
        }

        let users = (0..<spec.clients).map { "\(spec.runId)-\(spec.firstUser + $0)" }
        let sessions = await createSessions(users, backend: backend, project: spec.project, spec.rampConcurrency) {
            ledger.error("create: \($0)")
            ledger.count { $0.connectFailures += 1 }
        }
        var sources: [SocketAddress] = []
        if spec.sources > 0, let first = sessions.compactMap({ $0 }).first, Self.isLoopback(first.connect.websocket) {
            sources = (0..<min(spec.sources, 250)).compactMap {
                try? SocketAddress(ipAddress: "127.0.0.\(2 + $0)", port: 0)
            }
        }
        var client = TetherClientConfiguration()
        client.tls = tls ?? .system
        if spec.loss > 0 || spec.jitterMs > 0 {
            client.disturbance = HeartbeatDisturbance(dropRate: spec.loss / 100, jitter: .milliseconds(spec.jitterMs))
        }
        client.backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))
        let start = ContinuousClock.now
        let context = SimContext(
            backend: backend, project: spec.project, ledger: ledger, client: client, sources: sources, start: start,
            end: start + duration, settle: .milliseconds(max(0, spec.drainMs / 2)), intervalMs: spec.intervalMs,
            timeoutMs: spec.timeoutMs)
        // The clients run on their own; the run waits for them until the drain after the end, no longer.
        let running = SimRunning()
        for (i, session) in sessions.enumerated() where session != nil { running.started(i) }
        let clients = Task {
            await withTaskGroup(of: Void.self) { group in
                for (i, session) in sessions.enumerated() {
                    guard let session else { continue }
                    var user = SimUser(
                        id: users[i], index: spec.firstUser + i, transport: plan.transports[i],
                        behaviour: plan.behaviours[i], context: context)
                    // Throttled tabs among the steady WebSocket and TCP clients, spread over the numbers.
                    if case .steady = plan.behaviours[i], plan.transports[i] != .http,
                        Double((spec.firstUser + i) * 37 % 100) < spec.throttled
                    {
                        user.throttled = true
                    }
                    group.addTask {
                        await user.run(session)
                        running.finished(i)
                    }
                }
            }
        }
        let drainEnd = context.end + .milliseconds(spec.drainMs)
        while !running.isEmpty && ContinuousClock.now < drainEnd {
            try? await Task.sleep(for: .milliseconds(100))
        }
        let left = running.indices
        if !left.isEmpty {
            clients.cancel()
            ledger.count { $0.unfinished = left.count }
            let names = left.prefix(5).map { "\(users[$0]) (\(plan.transports[$0]))" }.joined(separator: ", ")
            ledger.error(
                "\(left.count) clients still running \(spec.drainMs) ms after the end, left behind: \(names)"
                    + (left.count > 5 ? ", ..." : ""))
        }
        // Let the event stream catch up: the last detections, and any late false disconnect.
        let settle = ContinuousClock.now + .milliseconds(spec.timeoutMs) + .seconds(3)
        while ledger.pendingSilent > 0 && ContinuousClock.now < settle {
            try? await Task.sleep(for: .milliseconds(100))
        }
        try? await Task.sleep(for: .milliseconds(500))
        reader.cancel()
        reporter.cancel()
        progress(ledger.progress)
        var report = ledger.report
        report.cpuSeconds = SimLimits.cpuSeconds()
        report.wallSeconds = Double((ContinuousClock.now - wallStart).wholeMilliseconds) / 1_000
        return report
    }

    /// ApplyConcurrent + CreateSession for each user, `concurrency` at a time; nil where it failed.
    static func createSessions(
        _ users: [String], backend: TetherBackend, project: String, _ concurrency: Int,
        failed: @escaping @Sendable (String) -> Void
    ) async -> [TetherBackend.CreatedSession?] {
        var sessions = [TetherBackend.CreatedSession?](repeating: nil, count: users.count)
        await withTaskGroup(of: (Int, TetherBackend.CreatedSession?).self) { group in
            var next = 0
            func add() {
                let i = next
                next += 1
                group.addTask {
                    do {
                        _ = try await backend.apply(project: project, userId: users[i])
                        return (i, try await backend.createSession(project: project, userId: users[i]))
                    } catch {
                        failed("\(users[i]): \(error)")
                        return (i, nil)
                    }
                }
            }
            while next < min(max(1, concurrency), users.count) { add() }
            for await (i, session) in group {
                sessions[i] = session
                if next < users.count { add() }
            }
        }
        return sessions
    }

    private static func isLoopback(_ url: String) -> Bool {
        guard let host = URL(string: url)?.host else { return false }
        return host.hasPrefix("127.") || host == "localhost"
    }
}

/// The clients of a sim process whose script is still running.
final class SimRunning: Sendable {
    private let clients = Mutex(Set<Int>())

    func started(_ index: Int) { clients.withLock { _ = $0.insert(index) } }
    func finished(_ index: Int) { clients.withLock { _ = $0.remove(index) } }
    var isEmpty: Bool { clients.withLock { $0.isEmpty } }
    /// The running clients' indices, in order.
    var indices: [Int] { clients.withLock { $0.sorted() } }
}
