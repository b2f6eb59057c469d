import Foundation
import Synchronization
import TetherClient
import TetherProtocol

/// What a sim process knows and counts, shared by its clients' tasks and the event-stream reader: which
/// sessions it let go of or disturbed on purpose, the silent clients waiting to be detected, the gauges of the
/// progress line, and the report.
///
/// A server event is judged against the sim's intent: a `session.disconnected` or `session.ended` of a session
/// the sim has not let go of (`abandon`) and did not kill or silence at that epoch is a false disconnect.
final class SimLedger: Sendable {
    /// A client's state for the gauges.
    enum Gauge: Sendable { case connecting, connected, suspended, reconnecting, ended }

    private struct Tracked {
        var user: String
        var abandoned = false
        /// Epochs whose loss the sim caused (a kill, a silence); a `replaced` at the next epoch is the resume.
        var disturbed: Set<UInt64> = []
        var silentSince: Double?
        var timeoutMs: Int64 = 0
        var detected = false
    }

    private struct State {
        var sessions: [String: Tracked] = [:]
        var report = SimReport()
        var progress = SimProgress()
        var pendingSilent = 0
    }

    private let state = Mutex(State())

    /// Wall clock, Unix ms.
    static func nowMs() -> Double { Date().timeIntervalSince1970 * 1_000 }

    /// A new session of `user`.
    func register(_ sessionId: String, user: String) {
        state.withLock { $0.sessions[sessionId] = Tracked(user: user) }
    }

    /// The sim lets go of the session (bye, the end of the run): whatever happens to it next is expected.
    func abandon(_ sessionId: String) {
        state.withLock { $0.sessions[sessionId]?.abandoned = true }
    }

    /// The sim is about to break the connection of `epoch` (a kill).
    func disturb(_ sessionId: String, epoch: UInt64) {
        state.withLock { _ = $0.sessions[sessionId]?.disturbed.insert(epoch) }
    }

    /// The client went silent; its last bytes left at `lastSentMs` (Unix ms).
    func silenced(_ sessionId: String, epoch: UInt64, lastSentMs: Double, timeoutMs: Int64) {
        state.withLock {
            guard var t = $0.sessions[sessionId] else { return }
            t.disturbed.insert(epoch)
            // Whole milliseconds, as the server's clock: the server stamps a frame's arrival no earlier.
            t.silentSince = lastSentMs.rounded(.down)
            t.timeoutMs = timeoutMs
            $0.sessions[sessionId] = t
            $0.report.silent += 1
            $0.pendingSilent += 1
        }
    }

    /// Silent clients not detected yet.
    var pendingSilent: Int { state.withLock { $0.pendingSilent } }

    /// One event from the server's stream, judged; `arrivedMs` is when it reached the sim.
    func observe(_ event: TetherBackend.Event, arrivedMs: Double) {
        guard let id = event.sessionId else { return }
        state.withLock { s in
            guard var t = s.sessions[id] else { return }
            defer { s.sessions[id] = t }
            let epoch = event.epoch ?? 0
            switch event.type {
            case "session.disconnected":
                let cause = event.data.cause ?? "-"
                if let since = t.silentSince, !t.detected, cause == "heartbeatTimeout" {
                    t.detected = true
                    s.pendingSilent -= 1
                    s.report.silentDetected += 1
                    let deadline = since + Double(t.timeoutMs)
                    s.report.lateness.append(Double(event.at) - deadline)
                    s.report.noticeLateness.append(arrivedMs - deadline)
                    return
                }
                let caused =
                    (t.disturbed.contains(epoch) && cause != "heartbeatTimeout")
                    || (epoch > 0 && t.disturbed.contains(epoch - 1) && cause == "replaced")
                if !t.abandoned && !caused {
                    s.report.falseDisconnects += 1
                    note(&s, "false disconnect: \(t.user) epoch \(epoch) cause \(cause)")
                }
            case "session.ended":
                if !t.abandoned {
                    s.report.falseDisconnects += 1
                    note(&s, "false end: \(t.user) reason \(event.data.reason ?? "-")")
                }
            default:
                break
            }
        }
    }

    /// Changes a report field.
    func count(_ change: (inout SimReport) -> Void) {
        state.withLock { change(&$0.report) }
    }

    /// An error, with an example kept for the summary.
    func error(_ text: String) {
        state.withLock {
            $0.report.errors += 1
            $0.progress.errors += 1
            note(&$0, text)
        }
    }

    /// A loss the SDK saw that the sim did not cause.
    func clientLoss(_ text: String) {
        state.withLock {
            $0.report.clientLosses += 1
            note(&$0, text)
        }
    }

    /// An outage the sim did not cause began at `sinceMs` and was over at `backMs` (`nil`: it never was).
    func outage(since sinceMs: Double, back backMs: Double?) {
        state.withLock {
            if let backMs {
                $0.report.outageStartMs.append(sinceMs)
                $0.report.outageEndMs.append(backMs)
            } else {
                $0.report.outagesOpen.append(sinceMs)
            }
        }
    }

    /// A client moved between gauges.
    func move(from old: Gauge?, to new: Gauge) {
        state.withLock {
            if let old { Self.adjust(&$0.progress, old, -1) }
            Self.adjust(&$0.progress, new, 1)
            let held = $0.progress.connected + $0.progress.suspended
            $0.report.peakHeld = max($0.report.peakHeld, held)
        }
    }

    /// The gauges now.
    var progress: SimProgress { state.withLock { $0.progress } }

    /// The report so far.
    var report: SimReport { state.withLock { $0.report } }

    private static func adjust(_ p: inout SimProgress, _ gauge: Gauge, _ by: Int) {
        switch gauge {
        case .connecting: break
        case .connected: p.connected += by
        case .suspended: p.suspended += by
        case .reconnecting: p.reconnecting += by
        case .ended: p.ended += by
        }
    }

    private func note(_ s: inout State, _ text: String) {
        if s.report.notes.count < 20 { s.report.notes.append(text) }
    }
}
