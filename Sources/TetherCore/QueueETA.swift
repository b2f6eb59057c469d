/// The estimated wait of a queued user (`etaMs`), from what the project's pool is doing now
/// (docs/QUEUE.md, "How etaMs is estimated"):
///
/// * each session in grace frees its concurrency at its grace deadline at the latest (counted as freed then);
/// * every other held concurrency (a session created, connected or suspended) frees after a session's length,
///   taken as the mean of the project's last ended sessions (``SessionLengths``; 60 s before any ended): with
///   `n` of them, one frees every `mean / n` on average;
/// * the ticket at position `k` is offered when the `k`-th concurrency frees: the smallest `t` at which the
///   grace deadlines passed by `t` plus `t · n / mean` reach `k`.
struct QueueETA: Sendable {
    /// The mean session length assumed before any session of the project ended.
    static let defaultSessionMs: Millis = 60_000

    /// The grace deadlines, soonest first, as waits from now.
    let graceWaits: [Millis]
    /// Held concurrencies that free after a session length.
    let busy: Int
    /// The mean session length.
    let meanSessionMs: Millis

    /// Inputs at `now`.
    init(now: Millis, graceDeadlines: [Millis], busy: Int, meanSessionMs: Millis?) {
        self.graceWaits = graceDeadlines.map { max(0, $0 - now) }.sorted()
        self.busy = busy
        self.meanSessionMs = max(1, meanSessionMs ?? Self.defaultSessionMs)
    }

    /// How many concurrencies are freed within `t` ms.
    func freed(within t: Millis) -> Int {
        var low = 0
        var high = graceWaits.count
        while low < high {
            let mid = (low + high) / 2
            if graceWaits[mid] <= t { low = mid + 1 } else { high = mid }
        }
        let steady = busy > 0 ? Int(Double(t) * Double(busy) / Double(meanSessionMs)) : 0
        return low + steady
    }

    /// The estimated wait of the ticket at `position` (1 is next).
    func etaMs(position: Int) -> Millis {
        guard position > 0 else { return 0 }
        let rate = max(1, busy)
        var high = (graceWaits.last ?? 0) + Millis(position) * meanSessionMs / Millis(rate) + meanSessionMs
        // Nothing frees on its own (no session held, none in grace): one session length per position ahead.
        if busy == 0 && graceWaits.count < position {
            return Millis(position - graceWaits.count) * meanSessionMs + (graceWaits.last ?? 0)
        }
        var low: Millis = 0
        while freed(within: high) < position { high *= 2 }
        while low < high {
            let mid = (low + high) / 2
            if freed(within: mid) >= position { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

/// The lengths of a project's last ended sessions (created to ended), for ``QueueETA``. Not durable: a
/// restart starts without history.
struct SessionLengths: Sendable, Hashable {
    /// How many lengths are kept.
    static let window = 32
    private var lengths: [Millis] = []
    private var next = 0
    private var sum: Millis = 0

    /// Adds the length of a session that ended.
    mutating func add(_ length: Millis) {
        let length = max(0, length)
        if lengths.count < Self.window {
            lengths.append(length)
        } else {
            sum -= lengths[next]
            lengths[next] = length
            next = (next + 1) % Self.window
        }
        sum += length
    }

    /// The mean, or nil before any session ended.
    var mean: Millis? { lengths.isEmpty ? nil : sum / Millis(lengths.count) }
}
