/// Admits hellos at a bounded rate, so that a crowd reconnecting at once (after a crash, a deploy, a network
/// blip) is served at the pace the server sustains instead of drowning it. A token bucket: `burst` hellos at
/// once, then `ratePerSecond`. A hello over the rate is refused with a `retryAfterMs` that gives it its own
/// place behind everyone refused before it (jittered within its slot), so the retries come back at the rate
/// rather than as a second wave. Pure: time and the random draw are inputs.
public struct HelloPacer: Sendable, Hashable {
    /// Hellos per second admitted after the burst; 0 admits every hello.
    public let ratePerSecond: Double
    /// Hellos admitted at once.
    public let burst: Double
    private var tokens: Double
    /// Refused hellos not yet paid back by the rate: the crowd whose retries are to be spread.
    private var waiting: Double = 0
    private var last: Millis?

    /// A pacer that admits `burst` hellos at once, then `ratePerSecond`.
    public init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = max(0, ratePerSecond)
        self.burst = max(1, burst)
        self.tokens = max(1, burst)
    }

    /// A hello at `now`: `nil` when admitted, else how long (ms) the client should wait before its next try.
    /// `unit` is a random draw in `0 ..< 1`.
    public mutating func admit(at now: Millis, unit: Double) -> Millis? {
        guard ratePerSecond > 0 else { return nil }
        let elapsed = Double(max(0, now - (last ?? now)))
        last = max(last ?? now, now)
        let earned = elapsed * ratePerSecond / 1_000
        tokens = min(burst, tokens + earned)
        waiting = max(0, waiting - earned)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        waiting += 1
        // The next token, then this client's place behind everyone refused before it, jittered within the slot.
        let nextTokenMs = (1 - tokens) * 1_000 / ratePerSecond
        let placeMs = (waiting - 1 + min(max(0, unit), 1)) * 1_000 / ratePerSecond
        return Millis((nextTokenMs + placeMs).rounded(.up)) + 1
    }

    /// The `retryAfterMs` of the `index`-th of `count` clients told at once to come back after `baseMs` (a
    /// graceful shutdown): evenly spaced over the time `ratePerSecond` needs to admit them all.
    public static func spread(index: Int, baseMs: Millis, ratePerSecond: Double) -> Millis {
        guard ratePerSecond > 0 else { return baseMs }
        return baseMs + Millis((Double(index) * 1_000 / ratePerSecond).rounded())
    }
}
