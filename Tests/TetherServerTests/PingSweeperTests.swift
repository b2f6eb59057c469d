import NIOCore
import NIOEmbedded
import Testing
import TetherCore
import TetherTestKit

@testable import TetherServer

/// One ping timer per event loop: membership, the timer's period, and its stop; on an embedded loop with
/// an injected clock, so nothing depends on real time.
struct PingSweeperTests {
    final class Member: PingSweepable {
        var sweepSlot = -1
        let sweepEveryMs: Millis
        var seen: [Millis] = []
        var pings = true
        init(every: Millis) { sweepEveryMs = every }
        func sweep(at now: Millis) -> Bool {
            seen.append(now)
            return pings
        }
    }

    @Test func sweepsEveryMemberAtTheShortestPeriodAndStopsWhenEmpty() throws {
        let loop = EmbeddedEventLoop()
        let time = ManualTime(1_000)
        let sweeper = PingSweeper(eventLoop: loop, time: time)
        let slow = Member(every: 1_000)
        let fast = Member(every: 100)
        let other = Member(every: 500)
        sweeper.add(slow)
        sweeper.add(fast)
        sweeper.add(other)
        #expect(sweeper.count == 3)
        sweeper.add(fast)  // twice is once
        #expect(sweeper.count == 3)

        loop.advanceTime(by: .milliseconds(100))
        #expect(slow.seen.count == 1 && fast.seen.count == 1 && other.seen.count == 1)
        loop.advanceTime(by: .milliseconds(300))
        #expect(fast.seen.count == 4)

        sweeper.remove(slow)  // the last member takes its slot
        #expect(slow.sweepSlot == -1)
        #expect(other.sweepSlot == 0)
        #expect(fast.sweepSlot == 1)
        loop.advanceTime(by: .milliseconds(100))
        #expect(slow.seen.count == 4)
        #expect(fast.seen.count == 5 && other.seen.count == 5)

        sweeper.remove(fast)
        sweeper.remove(other)
        sweeper.remove(other)  // unknown now: ignored
        #expect(sweeper.count == 0)
        loop.advanceTime(by: .seconds(10))
        #expect(fast.seen.count == 5)  // the timer stopped
        sweeper.add(slow)
        loop.advanceTime(by: .milliseconds(1_000))
        #expect(slow.seen.count == 5)  // and restarts at the new member's period
        try loop.syncShutdownGracefully()
    }

    /// Many quiet clients at once: each sweep sends at most its budget and the next goes on from there, so
    /// every client is pinged within a few sweeps and no sweep holds the loop for long.
    @Test func aSweepStopsAtItsBudgetAndTheNextGoesOn() throws {
        let loop = EmbeddedEventLoop()
        let sweeper = PingSweeper(eventLoop: loop, time: ManualTime(0), pingsPerSweep: 4)
        let members = (0..<10).map { _ in Member(every: 100) }
        for member in members { sweeper.add(member) }
        loop.advanceTime(by: .milliseconds(100))
        #expect(members.map(\.seen.count) == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
        loop.advanceTime(by: .milliseconds(100))
        #expect(members.map(\.seen.count) == [1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
        // Members that send no ping cost nothing from the budget: the sweep goes round once.
        for member in members { member.pings = false }
        loop.advanceTime(by: .milliseconds(100))
        #expect(members.map(\.seen.count) == [2, 2, 2, 2, 2, 2, 2, 2, 1, 1])
        try loop.syncShutdownGracefully()
    }

    @Test func periodIsAtLeast25Milliseconds() throws {
        let loop = EmbeddedEventLoop()
        let sweeper = PingSweeper(eventLoop: loop, time: ManualTime(0))
        let member = Member(every: 1)
        sweeper.add(member)
        loop.advanceTime(by: .milliseconds(24))
        #expect(member.seen.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(member.seen.count == 1)
        try loop.syncShutdownGracefully()
    }

    @Test func eachLoopHasOneSweeper() {
        let sweepers = PingSweepers(time: ManualTime(0))
        let a = EmbeddedEventLoop()
        let b = EmbeddedEventLoop()
        #expect(sweepers.sweeper(for: a) === sweepers.sweeper(for: a))
        #expect(sweepers.sweeper(for: a) !== sweepers.sweeper(for: b))
    }
}
