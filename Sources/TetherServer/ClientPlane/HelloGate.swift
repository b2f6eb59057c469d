import Synchronization
import TetherCore

/// The server's one ``HelloPacer``: every hello on every transport and event loop passes it. Behind a lock,
/// which only hellos take (a heartbeat never does).
final class HelloGate: Sendable {
    private let pacer: Mutex<HelloPacer>
    /// Hellos per second admitted (0: no limit).
    let ratePerSecond: Double

    /// A gate admitting `burst` hellos at once, then `ratePerSecond` (0: every hello).
    init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond
        pacer = Mutex(HelloPacer(ratePerSecond: ratePerSecond, burst: burst))
    }

    /// A hello at `now`: `nil` when it may go on, else the `retryAfterMs` to tell the client.
    func admit(at now: Millis) -> Millis? {
        guard ratePerSecond > 0 else { return nil }
        let unit = Double.random(in: 0..<1)
        let retry = pacer.withLock { $0.admit(at: now, unit: unit) }
        if retry != nil { TetherMetrics.helloDeferred() }
        return retry
    }
}
