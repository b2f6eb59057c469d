import Testing
import TetherCore

@Suite struct RestoreTests {
    /// A broker with a session in every state and a reservation.
    func populated() throws -> Harness {
        var h = Harness(configuration: BrokerConfiguration(restartGraceFloorMs: 30_000))
        try h.project(capacity: 6, grace: 90_000)
        _ = try h.connected("connected")
        let (suspended, cs) = try h.connected("suspended")
        try h.run(.suspend(suspended.id, connection: cs, expectedMs: 100_000, reason: .background))
        let (grace, cg) = try h.connected("grace")
        try h.run(.connectionLost(grace.id, connection: cg, cause: .closed))
        _ = try h.apply("created")
        _ = try h.create("created")
        _ = try h.apply("reserved")
        return h
    }

    @Test func aRestoredBrokerKeepsEveryRecordAndTheCursor() throws {
        var h = try populated()
        let before = h.broker.snapshot
        h.pass(5_000)
        let restored = Broker(configuration: h.broker.configuration, restoring: before, at: h.now)
        #expect(restored.cursor > before.cursor)  // the restart's own transitions are events too
        #expect(
            try restored.count("p")
                == ConcurrencyCount(
                    total: 6, idle: 1, reserved: 1, running: 5, created: 1, connected: 0, suspended: 0, grace: 3))
        #expect(restored.reservation(of: "reserved", in: "p") == before.reservations.first)
        let grace = try #require(before.sessions.first { $0.userId == "grace" })
        // A session already in grace keeps its absolute deadline…
        #expect(restored.session(grace.id)?.deadlineAt == grace.deadlineAt)
        // …connected and suspended ones get a full window from the restart.
        for user in ["connected", "suspended"] {
            let s = try #require(restored.session(of: user, in: "p"))
            #expect(
                s.state == .grace && s.lastCause == .shutdown && s.deadlineAt == h.now + 90_000 && s.connection == nil)
        }
        let created = try #require(restored.session(of: "created", in: "p"))
        #expect(
            created.state == .created
                && created.deadlineAt == before.sessions.first { $0.userId == "created" }?.deadlineAt)
        #expect(restored.armedDeadlines == 5)
    }

    @Test func aRestoredSessionResumesWithItsTokenAndKeepsItsSlot() throws {
        let h = try populated()
        let before = h.broker.snapshot
        var restored = Broker(restoring: before, at: h.now + 1_000)
        let s = try #require(before.sessions.first { $0.userId == "connected" })
        let token = try #require(s.resumeTokenHash)
        _ = restored.tick(at: h.now + 2_000)
        let reply = try restored.handle(
            .resume(resumeTokenHash: token, connection: 1, transport: .websocket, newResumeTokenHash: "n")
        ).reply
        guard case .session(let back) = reply else { return }
        #expect(back.state == .connected && back.concurrencyId == s.concurrencyId && back.epoch == s.epoch + 1)
        // The other users cannot take its slot; the only idle one is free.
        var other = restored
        #expect(try other.handle(.apply("p", userId: "new", userIp: nil)).reply != .none)
        #expect(throws: BrokerError.self) {
            try other.handle(.apply("p", userId: "newer", userIp: nil))
        }
    }

    /// The slots the store says are held are not idle after the restart: a new user gets a free one, never a
    /// live session's (the pool once kept every restored slot idle too, and handed slot 1 out twice).
    @Test func aRestoredPoolHandsOutOnlyFreeSlots() throws {
        let h = try populated()
        let before = h.broker.snapshot
        var restored = Broker(restoring: before, at: h.now + 1_000)
        let held = Set(before.sessions.map(\.concurrencyId) + before.reservations.map(\.concurrencyId))
        #expect(held.count == 5)
        let reply = try restored.handle(.apply("p", userId: "new", userIp: nil)).reply
        guard case .applied(let applied) = reply else {
            Issue.record("\(reply)")
            return
        }
        #expect(!held.contains(applied.concurrencyId))
        #expect(applied.concurrencyId == "cc-p-6")
    }

    @Test func deadlinesThatPassedWhileDownExpireOnTheFirstAdvance() throws {
        let h = try populated()
        let before = h.broker.snapshot
        var restored = Broker(restoring: before, at: h.now + 100_000)
        let effects = restored.takeEffects() + restored.tick(at: h.now + 100_000)
        let endedReasons = effects.compactMap { effect -> EndReason? in
            if case .saveSession(let s) = effect, s.state == .ended { s.endReason } else { nil }
        }
        #expect(endedReasons.sorted { $0.rawValue < $1.rawValue } == [.graceExpired, .neverConnected])
        #expect(restored.reservation(of: "reserved", in: "p") == nil)
        #expect(restored.allSessions.count == 2)
    }

    @Test func aRestoredShrunkPoolKeepsItsRetiringSlots() throws {
        var h = Harness()
        try h.project(capacity: 2)
        _ = try h.connected("a")
        let (b, _) = try h.connected("b")
        try h.run(.updateProject("p", ProjectPatch(capacity: 1)))
        var restored = Broker(restoring: h.broker.snapshot, at: h.now)
        #expect(try restored.count("p").total == 2)
        _ = restored.tick(at: h.now)
        _ = try restored.handle(.destroySession(b.id))
        #expect(
            try restored.count("p")
                == ConcurrencyCount(
                    total: 1, idle: 0, reserved: 0, running: 1, created: 0, connected: 0, suspended: 0, grace: 1))
    }

    /// The restore's own commit took seconds: resuming the clock after it is not a stall (no deadline shifts,
    /// nothing is saved again), and deadlines due by then still expire at the next tick.
    @Test func resumingTheClockAfterTheRestoreIsNotAStall() throws {
        let h = try populated()
        var restored = Broker(configuration: h.broker.configuration, restoring: h.broker.snapshot, at: h.now)
        _ = restored.takeEffects()
        restored.resumeClock(at: h.now + 5_000)
        let effects = restored.tick(at: h.now + 5_100)
        #expect(!effects.contains { if case .deadlinesShifted = $0 { true } else { false } })
        #expect(!effects.contains { if case .saveSession = $0 { true } else { false } })
        // Without it, the same gap is a stall: every deadline moves (in memory only).
        var stalled = Broker(configuration: h.broker.configuration, restoring: h.broker.snapshot, at: h.now)
        _ = stalled.takeEffects()
        let shifted = stalled.tick(at: h.now + 5_100)
        #expect(shifted.contains(.deadlinesShifted(byMs: 5_100)))
        #expect(!shifted.contains { if case .saveSession = $0 { true } else { false } })
    }
}
