import Synchronization
import TetherClient

/// Reads one SDK client's state stream: moves the client between the ledger's gauges, notes losses the sim did
/// not cause, and lets the client's script wait for what comes next (the welcome after a kill, the end).
final class SimWatch: Sendable {
    /// What the script can wait for.
    struct Seen: Sendable {
        /// Welcomes so far, and the last one.
        var welcomes = 0
        var session: SessionInfo?
        /// Losses (`reconnecting`) so far.
        var losses = 0
        /// Why the client ended, once it has.
        var ended: TetherClientEndReason?
    }

    private struct State {
        var seen = Seen()
        var gauge: SimLedger.Gauge?
        /// The sim is causing a loss or an end: do not count it as unprompted.
        var expecting = false
        var waiters: [Waiter] = []
        var nextWaiter = 0
        /// When an outage the sim did not cause began (Unix ms), until the next welcome.
        var outageSince: Double?
    }

    private struct Waiter {
        var id: Int
        var done: @Sendable (Seen) -> Bool
        var continuation: CheckedContinuation<Seen, Never>
    }

    private let state = Mutex(State())
    private let ledger: SimLedger
    private let user: String

    init(ledger: SimLedger, user: String) {
        self.ledger = ledger
        self.user = user
    }

    /// Reads `client.states` until it finishes.
    func follow(_ client: TetherClient) async {
        for await new in client.states { saw(new) }
    }

    /// The sim is about to cause a loss or an end (until the next welcome).
    func expect() { state.withLock { $0.expecting = true } }

    /// The client stopped: an outage still open never ended.
    func finish() {
        if let since = state.withLock({ s -> Double? in
            defer { s.outageSince = nil }
            return s.outageSince
        }) {
            ledger.outage(since: since, back: nil)
        }
    }

    /// What has been seen so far.
    var seen: Seen { state.withLock { $0.seen } }

    /// Waits until `done` holds, or `timeout` passed; returns what was seen then.
    func wait(timeout: Duration, until done: @escaping @Sendable (Seen) -> Bool) async -> Seen {
        await withCheckedContinuation { continuation in
            let ready: Seen? = state.withLock {
                if done($0.seen) { return $0.seen }
                $0.nextWaiter += 1
                let id = $0.nextWaiter
                $0.waiters.append(Waiter(id: id, done: done, continuation: continuation))
                Task {
                    try? await Task.sleep(for: timeout)
                    self.expire(id)
                }
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func expire(_ id: Int) {
        let expired: (CheckedContinuation<Seen, Never>, Seen)? = state.withLock { s in
            guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return (s.waiters.remove(at: index).continuation, s.seen)
        }
        if let (continuation, seen) = expired { continuation.resume(returning: seen) }
    }

    private func saw(_ new: TetherClientState) {
        let gauge: SimLedger.Gauge
        switch new {
        case .connecting: gauge = .connecting
        case .connected: gauge = .connected
        case .suspended: gauge = .suspended
        case .reconnecting: gauge = .reconnecting
        case .ended: gauge = .ended
        }
        let now = SimLedger.nowMs()
        var outage: (since: Double, back: Double?)?
        let (old, unprompted, ready): (SimLedger.Gauge?, String?, [(CheckedContinuation<Seen, Never>, Seen)]) =
            state.withLock { s in
                let old = s.gauge
                s.gauge = gauge
                var unprompted: String?
                switch new {
                case .connected(let info):
                    if old != .connected && old != .suspended {
                        s.seen.welcomes += 1
                        s.seen.session = info
                        s.expecting = false
                        if let since = s.outageSince { outage = (since, now) }
                        s.outageSince = nil
                    }
                case .reconnecting:
                    if old != .reconnecting {
                        s.seen.losses += 1
                        if !s.expecting {
                            unprompted = "\(user): connection lost without a cause"
                            if s.outageSince == nil { s.outageSince = now }
                        }
                    }
                case .ended(let reason):
                    s.seen.ended = reason
                    if !s.expecting {
                        unprompted = "\(user): ended \(reason) without a cause"
                        outage = (s.outageSince ?? now, nil)
                        s.outageSince = nil
                    }
                default:
                    break
                }
                let seen = s.seen
                let ready = s.waiters.filter { $0.done(seen) }.map { ($0.continuation, seen) }
                s.waiters.removeAll { $0.done(seen) }
                return (old, unprompted, ready)
            }
        if let outage { ledger.outage(since: outage.since, back: outage.back) }
        if old != gauge { ledger.move(from: old, to: gauge) }
        if let unprompted { ledger.clientLoss(unprompted) }
        for (continuation, seen) in ready { continuation.resume(returning: seen) }
    }
}
