import Testing
import TetherCore

/// The pool history the dashboard plots (issue 18, item 5): one round per period, a ring per project bounded by
/// the window, deleted projects forgotten, a clock that steps back ignored, and the broker's samples.
@Suite struct PoolHistoryTests {
    static func sample(_ at: Millis, connected: Int = 0, queued: Int = 0) -> PoolSample {
        PoolSample(
            at: at,
            count: ConcurrencyCount(
                total: 4, idle: 4 - connected, reserved: 0, running: connected, created: 0, connected: connected,
                suspended: 0, grace: 0), queued: queued)
    }

    @Test func aRoundIsDueOncePerPeriod() {
        var history = PoolHistory(periodMs: 10_000, windowMs: 60_000)
        #expect(history.isDue(at: 5))
        history.record(at: 1_000, ["p": Self.sample(1_000)])
        #expect(!history.isDue(at: 1_000))
        #expect(!history.isDue(at: 10_999))
        #expect(history.isDue(at: 11_000))
    }

    @Test func theRingKeepsTheWindowOldestFirst() {
        var history = PoolHistory(periodMs: 10_000, windowMs: 60_000)
        #expect(history.capacity == 6)
        for i in 0..<10 {
            let at = Millis(i) * 10_000
            history.record(at: at, ["p": Self.sample(at, connected: i % 5)])
        }
        let samples = history.samples(of: "p", at: 90_000)
        // Six kept (the window); the oldest of them is 60 s old and falls outside it.
        #expect(samples.map(\.at) == [40_000, 50_000, 60_000, 70_000, 80_000, 90_000])
        #expect(samples.map(\.connected) == [4, 0, 1, 2, 3, 4])
        // Read later, the samples older than the window are left out.
        #expect(history.samples(of: "p", at: 125_000).map(\.at) == [70_000, 80_000, 90_000])
        #expect(history.samples(of: "other", at: 90_000).isEmpty)
    }

    @Test func aDeletedProjectLosesItsHistoryAndANewOneStartsEmpty() {
        var history = PoolHistory(periodMs: 1_000, windowMs: 60_000)
        history.record(at: 1_000, ["a": Self.sample(1_000), "b": Self.sample(1_000)])
        history.record(at: 2_000, ["b": Self.sample(2_000), "c": Self.sample(2_000)])
        #expect(history.samples(of: "a", at: 2_000).isEmpty)
        #expect(history.samples(of: "b", at: 2_000).map(\.at) == [1_000, 2_000])
        #expect(history.samples(of: "c", at: 2_000).map(\.at) == [2_000])
    }

    @Test func aRoundNotAfterTheLastIsIgnored() {
        var history = PoolHistory(periodMs: 1_000, windowMs: 60_000)
        history.record(at: 5_000, ["p": Self.sample(5_000, connected: 1)])
        history.record(at: 4_000, ["p": Self.sample(4_000, connected: 2)])
        history.record(at: 5_000, ["p": Self.sample(5_000, connected: 3)])
        #expect(history.samples(of: "p", at: 6_000).map(\.connected) == [1])
        #expect(!history.isDue(at: 5_999))
    }

    @Test func theAnswerEndsWithThePoolNowInsteadOfASampleOfTheSameInstant() {
        var history = PoolHistory(periodMs: 1_000, windowMs: 60_000)
        history.record(at: 1_000, ["p": Self.sample(1_000, connected: 1)])
        history.record(at: 2_000, ["p": Self.sample(2_000, connected: 2)])
        let later = history.samples(of: "p", endingWith: Self.sample(2_500, connected: 3))
        #expect(later.map(\.at) == [1_000, 2_000, 2_500] && later.last?.connected == 3)
        let same = history.samples(of: "p", endingWith: Self.sample(2_000, connected: 4))
        #expect(same.map(\.at) == [1_000, 2_000] && same.last?.connected == 4)
        #expect(history.samples(of: "new", endingWith: Self.sample(2_000)).map(\.at) == [2_000])
    }

    @Test func periodAndWindowAreKeptSane() {
        let history = PoolHistory(periodMs: 0, windowMs: -5)
        #expect(history.periodMs == 1)
        #expect(history.windowMs == 1)
        #expect(history.capacity == 1)
    }

    @Test func theBrokerSamplesEveryProjectWithItsQueue() throws {
        var (h, _) = try QueueTests.full(capacity: 2)
        try h.project("q", capacity: 3)
        _ = try QueueTests.queue(&h, "waiting-1")
        _ = try QueueTests.queue(&h, "waiting-2")
        let samples = h.broker.poolSamples(at: h.now)
        #expect(Set(samples.keys) == ["p", "q"])
        let p = try #require(samples["p"])
        #expect(p.at == h.now)
        #expect((p.total, p.idle, p.connected, p.queued) == (2, 0, 2, 2))
        let q = try #require(samples["q"])
        #expect((q.total, q.idle, q.connected, q.queued) == (3, 3, 0, 0))
    }
}
