import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TetherCore
import TetherStore
import TetherTestKit

@testable import TetherServer

/// The broker's time waits for event loops that fall behind on reading (the cause of mass false expiries
/// while thousands of clients connect). Time is injected; nothing here depends on how fast the machine is.
struct LoopWatchTests {
    @Test func followsTheBaseTimeWhileEveryLoopKeepsUp() {
        let base = ManualTime(1_000_000)
        let watch = LoopWatch(base: base, loopCount: 2, periodMs: 50, allowanceMs: 250)
        #expect(watch.now() == 1_000_000)
        base.advance(by: 200)  // within the allowance: no beat needed yet
        #expect(watch.now() == 1_000_200)
        #expect(watch.heldBackMs() == 0)
    }

    @Test func holdsTheTimeAtTheLaggingLoopsBeatPlusTheAllowance() {
        let base = ManualTime(1_000_000)
        let watch = LoopWatch(base: base, loopCount: 2, periodMs: 50, allowanceMs: 250)
        for _ in 0..<100 {  // loop 1 keeps beating for 5 s; loop 0 is stuck
            base.advance(by: 50)
            watch.beat(1)
        }
        #expect(watch.now() == 1_000_250)
        #expect(watch.heldBackMs() == 4_750)
        watch.beat(0)  // its first beat: what arrived during the stall is read in the next tick
        #expect(watch.now() == 1_000_250)
        base.advance(by: 50)
        watch.beat(0)  // caught up: a tick has read what arrived up to the beat before
        #expect(watch.now() == 1_005_050)
        #expect(watch.heldBackMs() == 0)
    }

    /// A beat right after a long tick (or a blocking task) vouches only for the beat before it: the heartbeats
    /// that arrived during that tick are still unread, and the time must not run past them (before, the
    /// first beat after a 5 s stall let the time jump to the wall at once).
    @Test func aBeatVouchesOnlyForTheTimeOfTheBeatBeforeIt() {
        let base = ManualTime(1_000_000)
        let watch = LoopWatch(base: base, loopCount: 1, periodMs: 50, allowanceMs: 250)
        watch.beat(0)
        base.advance(by: 5_000)  // one tick of 5 s: I/O keeps arriving, unread
        watch.beat(0)
        #expect(watch.now() == 1_000_250)
        base.advance(by: 10)
        watch.beat(0)  // the next tick read what had arrived by the beat before
        #expect(watch.now() == 1_005_010)
        // Steady beats every period: the vouched time is one period old, well inside the allowance.
        for _ in 0..<10 {
            base.advance(by: 50)
            watch.beat(0)
            #expect(watch.heldBackMs() == 0)
        }
    }

    /// A loop stuck for good must not stop the whole server's time: the hold ends after `maxHoldMs`.
    @Test func theHoldLastsAtMostMaxHold() {
        let base = ManualTime(1_000_000)
        let watch = LoopWatch(base: base, loopCount: 2, periodMs: 50, allowanceMs: 250, maxHoldMs: 30_000)
        for _ in 0..<1_000 {  // 50 s with loop 0 stuck
            base.advance(by: 50)
            watch.beat(1)
        }
        #expect(watch.now() == 1_050_000 - 30_000)
        #expect(watch.heldBackMs() == 30_000)
    }

    @Test func stoppedWatchFollowsTheBaseTime() {
        let base = ManualTime(1_000_000)
        let watch = LoopWatch(base: base, loopCount: 1, periodMs: 50, allowanceMs: 250)
        base.advance(by: 10_000)
        #expect(watch.now() == 1_000_250)
        watch.stop()
        #expect(watch.now() == 1_010_000)
    }

    /// Real event loops: a loop blocked inside a task beats no more, and the time waits for it.
    @Test func aBlockedEventLoopHoldsTheTime() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let base = ManualTime(1_000_000)
        let watch = LoopWatch(base: base, loopCount: 2, periodMs: 5, allowanceMs: 250)
        watch.start(on: loops)
        let gate = Mutex(false)
        let blocked = loops[0].submit {
            while !gate.withLock({ $0 }) { usleep(1_000) }
        }
        // Loop 0 is now stuck behind the blocking task; loop 1 keeps beating at the new time.
        try await Task.sleep(for: .milliseconds(20))
        base.advance(by: 10_000)
        #expect(await eventually { watch.now() == 1_000_250 })
        gate.withLock { $0 = true }
        try await blocked.get()
        #expect(await eventually { watch.now() == 1_010_000 })
        watch.stop()
        try await group.shutdownGracefully()
    }

    /// The broker does not expire a connected session while the loop that would read its heartbeat is behind;
    /// once that loop has read it, the session lives on, and it expires normally when it falls silent.
    @Test func noExpiryWhileTheReadingLoopIsBehind() async throws {
        let base = ManualTime(1_700_000_000_000)
        let watch = LoopWatch(base: base, loopCount: 2, periodMs: 50, allowanceMs: 250)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loopwatch-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStore(path: path)
        let service = try await BrokerService(store: store, time: watch, logger: Logger(label: "test"))
        let policy = Policy(capacity: 2, heartbeat: .init(intervalMs: 1_000, timeoutMs: 3_000))
        _ = try await service.execute(.createProject(id: "p", name: "p", policy: policy))
        _ = try await service.execute(.apply("p", userId: "u", userIp: nil))
        _ = try await service.execute(.createSession("p", userId: "u", sessionId: "s1", metadata: SessionMetadata()))
        _ = try await service.execute(
            .hello("s1", epoch: 1, connection: 7, transport: .websocket, resumeTokenHash: "h"))

        // Loop 0 (which carries the connection) stalls for 5 s; loop 1 keeps up; the timer keeps ticking.
        for _ in 0..<100 {
            base.advance(by: 50)
            watch.beat(1)
            service.tick()
        }
        #expect(service.read { $0.session("s1")?.state } == .connected)
        // Loop 0 catches up: it reads the heartbeat the client sent in time, then beats.
        _ = try service.submit(.heartbeat("s1", connection: 7))
        watch.beat(0)
        service.tick()
        #expect(service.read { $0.session("s1")?.state } == .connected)
        // Now the client really falls silent: it is lost after the timeout.
        for _ in 0..<70 {
            base.advance(by: 50)
            watch.beat(0)
            watch.beat(1)
            service.tick()
        }
        #expect(service.read { $0.session("s1")?.state } == .grace)
        #expect(service.read { $0.session("s1")?.lastCause } == .heartbeatTimeout)
        try await store.close()
    }
}
