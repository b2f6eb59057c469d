import Foundation
import Synchronization
import TetherClient
import TetherProtocol

/// `tether sim --queue`: a full pool with churn and a live waiting queue, to see how far the server's `etaMs`
/// is from the waits users really get (issue 15, item 4). `clients` users cycle for `duration`: each applies
/// with `queue: true`; one that gets a concurrency creates its session, holds it with the SDK (WebSocket) for a
/// random length around `sessionMs`, and leaves with `bye`; one that is queued waits live with
/// ``TetherQueueWaiter`` and takes its offer. Then the next user of that client does the same. The report
/// gives, over every queued user that got its offer, the relative error of the first estimate it was told:
/// |actual wait − first etaMs| / actual wait (median and p90).
public enum SimQueue {
    /// What to run.
    public struct Options: Sendable {
        public var project = "simq"
        public var clients = 40
        public var capacity = 10
        public var duration: Duration = .seconds(30)
        /// The mean session length (each is uniform in 0.5…1.5 × this).
        public var sessionMs: Int64 = 2_000
        public var seed: UInt64 = 1
        public init() {}
    }

    /// What happened.
    public struct Report: Sendable, Codable {
        public var sessions = 0
        public var queued = 0
        public var offersTaken = 0
        public var failures = 0
        /// The queued users' waits (ms), median and p90.
        public var waitMedianMs: Double = 0
        public var waitP90Ms: Double = 0
        /// |actual − first estimate| / actual, median and p90 (0.2 is 20 %), of the users queued once the
        /// project had a history (at least `capacity` ended sessions: the estimate is built from it).
        public var etaErrorMedian: Double = 0
        public var etaErrorP90: Double = 0
        /// The same of the users queued before (the estimate then assumes twice the held sessions' age, or
        /// 60 s while no session is held yet).
        public var coldQueued = 0
        public var coldEtaErrorMedian: Double = 0
        public var notes: [String] = []

        /// The report for people.
        public var text: String {
            String(
                format:
                    "sessions %d, queued %d, offers taken %d, failures %d\nwait median %.0f ms, p90 %.0f ms\nETA error (|wait - first etaMs| / wait) median %.1f %%, p90 %.1f %% (queued with a history; %d queued before it: median %.1f %%)",
                sessions, queued, offersTaken, failures, waitMedianMs, waitP90Ms, etaErrorMedian * 100,
                etaErrorP90 * 100, coldQueued, coldEtaErrorMedian * 100) + notes.map { "\n  " + $0 }.joined()
        }
    }

    /// The shared tally of the run.
    final class Tally: Sendable {
        struct State {
            var report = Report()
            var waits: [Double] = []
            var errors: [Double] = []
            var coldErrors: [Double] = []
            var ended = 0
        }
        let state = Mutex(State())
        func update(_ body: (inout State) -> Void) { state.withLock { body(&$0) } }
    }

    /// Runs the simulation against `backend` and reports.
    public static func run(_ options: Options, backend: TetherBackend) async throws -> Report {
        let policy = TetherBackend.Policy(
            capacity: options.capacity, heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000, reconnectGraceMs: 0,
            queue: .init(enabled: true, offerTtlMs: 10_000, maxLength: max(1, options.clients), clientTimeoutMs: 5_000))
        do {
            _ = try await backend.createProject(id: options.project, policy: policy)
        } catch {
            _ = try await backend.updateProject(options.project, policy)
        }
        let tally = Tally()
        let end = ContinuousClock.now + options.duration
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<options.clients {
                group.addTask {
                    var rng = SplitMix64(seed: options.seed &+ UInt64(client) &* 0x9E37_79B9)
                    var round = 0
                    while ContinuousClock.now < end {
                        round += 1
                        await user("q\(client)-\(round)", options, backend, tally, &rng, end: end)
                    }
                }
            }
        }
        return tally.state.withLock { s in
            var report = s.report
            report.waitMedianMs = percentile(s.waits, 0.5)
            report.waitP90Ms = percentile(s.waits, 0.9)
            report.etaErrorMedian = percentile(s.errors, 0.5)
            report.etaErrorP90 = percentile(s.errors, 0.9)
            report.coldQueued = s.coldErrors.count
            report.coldEtaErrorMedian = percentile(s.coldErrors, 0.5)
            return report
        }
    }

    /// One user: applies (queued if full), holds a session for its length, leaves.
    private static func user(
        _ id: String, _ options: Options, _ backend: TetherBackend, _ tally: Tally, _ rng: inout SplitMix64,
        end: ContinuousClock.Instant
    ) async {
        let length = Duration.milliseconds(
            Int64(Double(options.sessionMs) * (0.5 + Double(rng.next() % 1_000) / 1_000)))
        do {
            switch try await backend.applyQueued(project: options.project, userId: id) {
            case .applied:
                break
            case .queued(let queued):
                let warm = tally.state.withLock { s in
                    s.report.queued += 1
                    return s.ended >= options.capacity
                }
                let started = ContinuousClock.now
                guard let connect = queued.connect, let endpoint = TetherEndpoint(url: connect.websocket) else {
                    throw SimError("no connect block in the 202")
                }
                var offered = false
                for try await update in TetherQueueWaiter(queueToken: queued.queueToken, endpoint: endpoint).updates() {
                    guard case .offered = update else { continue }
                    offered = true
                    let wait = Double((ContinuousClock.now - started).wholeMilliseconds)
                    if wait > 0 {
                        let error = abs(wait - Double(queued.etaMs)) / wait
                        tally.update {
                            $0.waits.append(wait)
                            if warm { $0.errors.append(error) } else { $0.coldErrors.append(error) }
                            if warm, error > 1, $0.report.notes.count < 20 {
                                $0.report.notes.append(
                                    "\(id): queued at \(queued.position), told \(queued.etaMs) ms, waited \(Int(wait)) ms"
                                )
                            }
                        }
                    }
                    break
                }
                guard offered else { throw SimError("the queue ended without an offer") }
                tally.update { $0.report.offersTaken += 1 }
            }
            let session = try await backend.createSession(project: options.project, userId: id)
            let client = try TetherClient(session: session)
            _ = try await client.connect()
            tally.update { $0.report.sessions += 1 }
            try? await Task.sleep(for: min(length, max(.zero, end - ContinuousClock.now) + length))
            await client.close()
            tally.update { $0.ended += 1 }
        } catch {
            tally.update {
                $0.report.failures += 1
                if $0.report.notes.count < 20 { $0.report.notes.append("\(id): \(error)") }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    struct SimError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))]
    }
}
