/// Connection quality as the client measures it from its own `ping`/`pong` round trips.
public struct ConnectionStats: Sendable, Hashable {
    /// The last round trip.
    public var lastRTT: Duration?
    /// Smoothed round trip (TCP's SRTT: `srtt += (rtt - srtt) / 8`).
    public var smoothedRTT: Duration?
    /// Smoothed variation of consecutive round trips (RFC 3550: `j += (|d| - j) / 16`).
    public var jitter: Duration = .zero
    /// Pings sent (over every connection of this client).
    public var pingsSent: UInt64 = 0
    /// Pongs received for them.
    public var pongsReceived: UInt64 = 0
    /// Pings unanswered after the heartbeat timeout.
    public var pingsLost: UInt64 = 0

    /// Lost pings over the pings whose fate is known (0 before any).
    public var lossRate: Double {
        let known = pongsReceived + pingsLost
        return known == 0 ? 0 : Double(pingsLost) / Double(known)
    }

    /// Empty figures.
    public init() {}
}

/// Tracks pings in flight and folds answers into ``ConnectionStats``. Pure: times are inputs.
struct HeartbeatMeter: Sendable {
    private(set) var stats = ConnectionStats()
    private var inFlight: [UInt64: Duration] = [:]
    private(set) var nextSeq: UInt64 = 1

    /// Records a ping sent at `now`; returns its sequence number.
    mutating func sent(at now: Duration) -> UInt64 {
        let seq = nextSeq
        nextSeq += 1
        inFlight[seq] = now
        stats.pingsSent += 1
        return seq
    }

    /// A pong for `seq` arrived at `now`; returns the round trip, nil for an unknown or late seq.
    @discardableResult
    mutating func answered(seq: UInt64, at now: Duration) -> Duration? {
        guard let sentAt = inFlight.removeValue(forKey: seq) else { return nil }
        let rtt = max(.zero, now - sentAt)
        stats.pongsReceived += 1
        if let previous = stats.lastRTT {
            let d = rtt > previous ? rtt - previous : previous - rtt
            stats.jitter += (d - stats.jitter) / 16
        }
        if let srtt = stats.smoothedRTT {
            stats.smoothedRTT = srtt + (rtt - srtt) / 8
        } else {
            stats.smoothedRTT = rtt
        }
        stats.lastRTT = rtt
        return rtt
    }

    /// Pings sent before `cutoff` and still unanswered count as lost.
    mutating func expire(sentBefore cutoff: Duration) {
        let late = inFlight.filter { $0.value < cutoff }
        for seq in late.keys { inFlight[seq] = nil }
        stats.pingsLost += UInt64(late.count)
    }

    /// The connection is gone: its pings in flight are forgotten (the loss is the connection's, not theirs).
    mutating func connectionEnded() { inFlight.removeAll() }
}
