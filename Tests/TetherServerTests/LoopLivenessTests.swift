import NIOCore
import NIOEmbedded
import Testing
import TetherCore

@testable import TetherServer

/// The heartbeat deadlines of one event loop (issue 13, item 2), on an embedded loop with an injected clock:
/// nothing depends on real time.
@Suite struct LoopLivenessTests {
    final class Member: LivenessWatched {
        var expired: [Millis] = []
        func livenessExpired(latenessMs: Millis) { expired.append(latenessMs) }
    }

    @Test func aSilentConnectionExpiresAtItsDeadlineAndAHeartbeatMovesIt() {
        let loop = EmbeddedEventLoop()
        let time = ManualTime(10_000)
        let liveness = LoopLiveness(eventLoop: loop, time: time)
        let quiet = Member()
        let chatty = Member()
        liveness.watch(1, quiet, until: 13_000)
        liveness.watch(2, chatty, until: 13_000)
        #expect(liveness.count == 2)
        time.advance(by: 2_000)
        loop.advanceTime(by: .milliseconds(2_000))
        liveness.seen(2, until: 15_000)  // heard from at 12 000
        time.advance(by: 1_000)
        loop.advanceTime(by: .milliseconds(1_000))
        #expect(quiet.expired == [0] && chatty.expired.isEmpty)
        #expect(liveness.count == 1)
        time.advance(by: 2_005)
        loop.advanceTime(by: .milliseconds(2_005))
        #expect(chatty.expired.count == 1 && chatty.expired[0] <= 5)
        #expect(liveness.count == 0)
    }

    @Test func anUnwatchedConnectionNeverExpires() {
        let loop = EmbeddedEventLoop()
        let time = ManualTime(0)
        let liveness = LoopLiveness(eventLoop: loop, time: time)
        let member = Member()
        liveness.watch(7, member, until: 1_000)
        liveness.unwatch(7)
        liveness.seen(7, until: 2_000)  // a late heartbeat of an unwatched connection does not watch it again
        time.advance(by: 5_000)
        loop.advanceTime(by: .milliseconds(5_000))
        #expect(member.expired.isEmpty && liveness.count == 0)
    }

    @Test func aLateTimerReportsItsLateness() {
        let loop = EmbeddedEventLoop()
        let time = ManualTime(0)
        let liveness = LoopLiveness(eventLoop: loop, time: time)
        let member = Member()
        liveness.watch(1, member, until: 100)
        time.advance(by: 130)  // the loop ran the timer 30 ms late
        loop.advanceTime(by: .milliseconds(130))
        #expect(member.expired == [30])
    }
}
