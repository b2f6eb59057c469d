/// Percentiles of a set of samples by the nearest-rank method: the p-th percentile is the smallest sample
/// such that at least p of all samples are at or below it (so p99 of 100 samples is the 99th smallest).
struct LatencySummary: Codable, Equatable, Sendable {
    /// How many samples.
    var count: Int
    /// The median.
    var p50: Double
    /// The 99th percentile.
    var p99: Double
    /// The largest sample.
    var max: Double
    /// The arithmetic mean.
    var mean: Double

    /// Summarises `samples`; `nil` when there are none.
    init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        count = sorted.count
        p50 = Self.percentile(0.50, ofSorted: sorted)
        p99 = Self.percentile(0.99, ofSorted: sorted)
        max = sorted[sorted.count - 1]
        mean = sorted.reduce(0, +) / Double(sorted.count)
    }

    /// The nearest-rank percentile `p` (0 < p ≤ 1) of samples sorted ascending (not empty).
    static func percentile(_ p: Double, ofSorted sorted: [Double]) -> Double {
        precondition(!sorted.isEmpty, "no samples")
        // The epsilon keeps 0.99 × 100 (99.000…01 in binary floating point) at rank 99.
        let rank = Int((p * Double(sorted.count) - 1e-9).rounded(.up))
        return sorted[Swift.min(sorted.count, Swift.max(1, rank)) - 1]
    }
}
