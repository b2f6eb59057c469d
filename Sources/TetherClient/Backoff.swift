/// Exponential backoff with full jitter (AWS "Exponential Backoff and Jitter"): the delay before reconnect
/// attempt `n` (1-based) is uniform in `0 ... min(cap, base · 2^(n-1))`.
///
/// The random draw is an input, so the maths is deterministic in tests.
public struct Backoff: Sendable, Hashable {
    /// The ceiling of the first attempt.
    public var base: Duration
    /// The largest ceiling of any attempt.
    public var cap: Duration

    /// Creates a backoff; the defaults suit people's devices (0.25 s doubling up to 30 s).
    public init(base: Duration = .milliseconds(250), cap: Duration = .seconds(30)) {
        self.base = base
        self.cap = cap
    }

    /// The upper bound of attempt `attempt` (1-based): `min(cap, base · 2^(attempt-1))`.
    public func ceiling(attempt: Int) -> Duration {
        let exponent = max(0, attempt - 1)
        // 2^62 already overflows any sensible base; stop doubling once past the cap.
        var ceiling = base
        var step = 0
        while step < exponent && ceiling < cap {
            ceiling = ceiling * 2
            step += 1
        }
        return min(cap, ceiling)
    }

    /// The delay of attempt `attempt` for a random draw `unit` in `0 ..< 1` (values outside are clamped).
    public func delay(attempt: Int, unit: Double) -> Duration {
        let u = min(max(unit, 0), 1)
        let ceilingMs = Double(ceiling(attempt: attempt).milliseconds)
        return .milliseconds(Int64((ceilingMs * u).rounded(.down)))
    }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
