/// One project's pool at one moment: what the dashboard plots over the last hour.
public struct PoolSample: Sendable, Hashable, Codable {
    /// When it was taken (Unix ms).
    public var at: Millis
    /// Slots in the pool.
    public var total: Int
    /// Slots nobody holds.
    public var idle: Int
    /// Slots held by a reservation only.
    public var reserved: Int
    /// Sessions created and not yet connected.
    public var created: Int
    /// Sessions connected.
    public var connected: Int
    /// Sessions suspended.
    public var suspended: Int
    /// Sessions in grace.
    public var grace: Int
    /// Users waiting in the project's queue (offered tickets included).
    public var queued: Int

    /// A sample of `count` and a queue of `queued` tickets, taken at `at`.
    public init(at: Millis, count: ConcurrencyCount, queued: Int) {
        self.at = at
        total = count.total
        idle = count.idle
        reserved = count.reserved
        created = count.created
        connected = count.connected
        suspended = count.suspended
        grace = count.grace
        self.queued = queued
    }
}

/// Every project's pool over a sliding window (an hour by default), one sample per period: a ring of
/// `windowMs / periodMs` samples per project, kept in memory by the node that runs the broker.
///
/// Rules: a round of samples is taken when ``isDue(at:)`` (a period after the last one); a round whose time is
/// not after the last one's is ignored (the wall clock stepped back); a project missing from a round (deleted)
/// loses its history; ``samples(of:at:)`` returns only samples inside the window, oldest first.
public struct PoolHistory: Sendable {
    /// The time between two rounds of samples.
    public let periodMs: Millis
    /// How far back samples are kept.
    public let windowMs: Millis
    /// Samples kept per project (`windowMs / periodMs`, at least 1).
    public var capacity: Int { Int(max(1, windowMs / periodMs)) }

    private var rings: [ProjectID: [PoolSample]] = [:]
    private var lastAt: Millis?

    /// An empty history: a sample every `periodMs` (at least 1), kept for `windowMs`.
    public init(periodMs: Millis = 10_000, windowMs: Millis = 3_600_000) {
        self.periodMs = max(1, periodMs)
        self.windowMs = max(self.periodMs, windowMs)
    }

    /// Whether a round of samples is due at `now`: none was taken yet, or the last was a period ago or more.
    public func isDue(at now: Millis) -> Bool {
        guard let lastAt else { return true }
        return now - lastAt >= periodMs
    }

    /// Records one round: every project's sample, taken at `at`. Projects not in `samples` lose their
    /// history; a round not later than the previous one is ignored.
    public mutating func record(at: Millis, _ samples: [ProjectID: PoolSample]) {
        if let lastAt, at <= lastAt { return }
        lastAt = at
        for project in rings.keys where samples[project] == nil { rings[project] = nil }
        let capacity = capacity
        for (project, sample) in samples {
            var ring = rings[project, default: []]
            ring.append(sample)
            if ring.count > capacity { ring.removeFirst(ring.count - capacity) }
            rings[project] = ring
        }
    }

    /// The project's samples taken within the window before `now`, oldest first (empty for an unknown project).
    public func samples(of project: ProjectID, at now: Millis) -> [PoolSample] {
        guard let ring = rings[project] else { return [] }
        return ring.filter { $0.at > now - windowMs && $0.at <= now }
    }

    /// What `GET /v1/projects/{id}/history` answers: the samples taken within the window before `current` was,
    /// oldest first, then `current` (the pool at the time of the call), which stands in for a sample taken at
    /// the same instant.
    public func samples(of project: ProjectID, endingWith current: PoolSample) -> [PoolSample] {
        samples(of: project, at: current.at).filter { $0.at < current.at } + [current]
    }
}

extension Broker {
    /// The project's pool now, with its queue's length; `nil` for an unknown project.
    public func poolSample(_ projectId: ProjectID, at now: Millis) -> PoolSample? {
        guard let ps = projects[projectId], let count = try? count(projectId) else { return nil }
        return PoolSample(at: now, count: count, queued: ps.queue.count)
    }

    /// Every project's pool now, for a round of ``PoolHistory``.
    public func poolSamples(at now: Millis) -> [ProjectID: PoolSample] {
        var out: [ProjectID: PoolSample] = [:]
        for id in projects.keys { out[id] = poolSample(id, at: now) }
        return out
    }
}
