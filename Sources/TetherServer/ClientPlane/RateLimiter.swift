import TetherCore

/// A token bucket: `rate` messages per second on average, bursts of `burst`. Confined to one connection.
struct RateLimiter {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: Millis?

    init(rate: Double = 50, burst: Double = 100) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
    }

    /// Takes one token at `now`; `false` when the bucket is empty.
    mutating func allow(at now: Millis) -> Bool {
        if let last { tokens = min(burst, tokens + Double(max(0, now - last)) * rate / 1000) }
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
