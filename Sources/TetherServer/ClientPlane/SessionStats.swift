import Synchronization
import TetherCore
import TetherProtocol

/// Connection quality of one session, measured from its heartbeats: RTT from the server's own pings
/// (WebSocket ping frames, TCP `ping` messages), jitter (RFC 3550's smoothed RTT variation), loss from gaps
/// in the client's `seq` and unanswered server pings, and the count of inbound frames.
final class SessionStats: Sendable {
    private struct State {
        /// Whole milliseconds (the broker's clock), 16 bits each: the window of 256 holds 512 bytes per
        /// session, not 2 KiB (an RTT over 65.5 s counts as 65 535 ms).
        var rtts: [UInt16] = []
        var next = 0
        var jitter: Double?
        var lastRTT: Double?
        var heartbeats: UInt64 = 0
        var expectedSeqs: UInt64 = 0
        var missingSeqs: UInt64 = 0
        var pingsSent: UInt64 = 0
        var pingsAnswered: UInt64 = 0
    }

    private static let window = 256
    private let state = Mutex(State())

    /// Any inbound frame.
    func heartbeat() { state.withLock { $0.heartbeats &+= 1 } }

    /// A client `ping` with `seq`, after `previous` on the same connection.
    /// Gaps larger than `maxGap` are not losses but a client that restarted its counter (or lies): ignored.
    func clientSeq(_ seq: UInt64, previous: UInt64?) {
        guard let previous, seq > previous, seq - previous <= Self.maxGap else { return }
        state.withLock {
            $0.expectedSeqs &+= seq - previous
            $0.missingSeqs &+= seq - previous - 1
        }
    }

    private static let maxGap: UInt64 = 10_000

    /// The server sent a ping.
    func pingSent() { state.withLock { $0.pingsSent &+= 1 } }

    /// A server ping came back after `rttMs`.
    func pingAnswered(rttMs: Double) {
        state.withLock { s in
            s.pingsAnswered &+= 1
            let sample = UInt16(clamping: Int(rttMs.rounded()))
            if s.rtts.count < Self.window {
                s.rtts.append(sample)
            } else {
                s.rtts[s.next] = sample
            }
            s.next = (s.next + 1) % Self.window
            if let last = s.lastRTT {
                let d = abs(rttMs - last)
                s.jitter = (s.jitter ?? d) + (d - (s.jitter ?? d)) / 16
            }
            s.lastRTT = rttMs
        }
    }

    /// The figures shown in `GET /v1/sessions/{id}`.
    var snapshot: TetherAPI.SessionStats {
        state.withLock { s in
            let sorted = s.rtts.sorted()
            func percentile(_ p: Double) -> Double? {
                guard !sorted.isEmpty else { return nil }
                return Double(sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)])
            }
            let unanswered = s.pingsSent > s.pingsAnswered + 1 ? s.pingsSent - s.pingsAnswered - 1 : 0
            let expected = s.expectedSeqs &+ s.pingsSent
            let lost = min(expected, s.missingSeqs &+ unanswered)
            return TetherAPI.SessionStats(
                rttMs: .init(p50: percentile(0.5), p99: percentile(0.99)), jitterMs: s.jitter,
                lossRate: expected == 0 ? nil : Double(lost) / Double(expected), heartbeats: s.heartbeats)
        }
    }
}

/// The stats of every live session.
final class StatsRegistry: Sendable {
    private let table = Mutex<[SessionID: SessionStats]>([:])

    /// The stats of a session, made on first use.
    func stats(for id: SessionID) -> SessionStats {
        table.withLock { t in
            if let s = t[id] { return s }
            let s = SessionStats()
            t[id] = s
            return s
        }
    }

    /// The figures of a session, if it has any.
    func snapshot(of id: SessionID) -> TetherAPI.SessionStats? { table.withLock { $0[id] }?.snapshot }

    /// Forgets an ended session.
    func remove(_ id: SessionID) { _ = table.withLock { $0.removeValue(forKey: id) } }
}
