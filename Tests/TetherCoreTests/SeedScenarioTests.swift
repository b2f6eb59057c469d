import Testing
import TetherCore

/// The seed scenarios of Tether, each driven with time as a plain input.
@Suite struct SeedScenarioTests {
    @Test func heartbeatTimeoutWithGraceZeroFreesTheSlotAtTheDeadline() throws {
        var h = Harness()
        try h.project(capacity: 1, grace: 0, timeout: 15_000)
        let (s, c) = try h.connected("alice")
        h.pass(10_000)
        try h.heartbeat(s, c)  // deadline is now +15 000 from here
        h.pass(14_999)
        #expect(h.state(s.id) == .connected)
        #expect(throws: BrokerError.noIdle(retryAfterMs: 5_000)) { _ = try h.apply("bob") }
        h.pass(1)
        #expect(h.state(s.id) == nil)
        let ended = try #require(h.ended(s.id))
        #expect(ended.endReason == .heartbeatTimeout)
        #expect(h.kicks.last == Kick(connection: c, sessionId: s.id, reason: .expired))
        #expect(Array(h.events(of: s.id).suffix(2)) == [.sessionDisconnected, .sessionEnded])
        #expect(try h.broker.count("p").idle == 1)
        #expect(h.effects.contains(.deadlineExpired(.heartbeat, latenessMs: 0)))
        let bob = try h.apply("bob")
        #expect(bob.concurrencyId == s.concurrencyId && !bob.reused)
    }

    @Test func closedClientHoldsItsSlotForGraceAndTheSameUserGetsItBack() throws {
        var h = Harness()
        try h.project(capacity: 1, grace: 90_000)
        let (s, c) = try h.connected("alice")
        try h.run(.connectionLost(s.id, connection: c, cause: .closed))
        #expect(h.state(s.id) == .grace)
        #expect(h.broker.session(s.id)?.lastCause == .closed)
        #expect(h.broker.session(s.id)?.deadlineAt == h.now + 90_000)
        h.pass(89_000)
        // Another user cannot get it…
        #expect(throws: BrokerError.self) { _ = try h.apply("bob") }
        // …the same user gets the same concurrency back, with a higher epoch.
        let again = try h.apply("alice")
        #expect(again.reused && again.concurrencyId == s.concurrencyId)
        let renewed = try h.create("alice")
        #expect(renewed.id == s.id && renewed.epoch == s.epoch + 1 && renewed.concurrencyId == s.concurrencyId)
        let c2 = try h.hello(renewed)
        #expect(h.state(s.id) == .connected)
        #expect(h.broker.session(s.id)?.connection == c2)
        #expect(h.events(of: s.id).last == .sessionReconnected)
        #expect(
            try h.broker.count("p")
                == ConcurrencyCount(
                    total: 1, idle: 0, reserved: 0, running: 1, created: 0, connected: 1, suspended: 0, grace: 0))
    }

    @Test func afterTheGraceWindowTheSlotIsFreeAndTheUserGetsANewOne() throws {
        var h = Harness()
        try h.project(capacity: 2, grace: 90_000)
        let (s, c) = try h.connected("alice")
        try h.run(.connectionLost(s.id, connection: c, cause: .error))
        h.pass(89_999)
        #expect(h.state(s.id) == .grace)
        h.pass(1)
        #expect(h.state(s.id) == nil)
        #expect(h.ended(s.id)?.endReason == .graceExpired)
        #expect(try h.broker.count("p").idle == 2)
        let again = try h.apply("alice")
        #expect(!again.reused)
        let fresh = try h.create("alice")
        #expect(fresh.id != s.id && fresh.epoch == 1)
    }

    @Test func aFullPoolAnswersNoIdleWithARetryHint() throws {
        var h = Harness()
        try h.project(capacity: 2, reservationTtl: 30_000)
        _ = try h.apply("a")
        h.pass(10_000)
        _ = try h.apply("b")
        // The soonest reservation to lapse is a's, 20 s from now.
        #expect(throws: BrokerError.noIdle(retryAfterMs: 20_000)) { _ = try h.apply("c") }
        #expect(
            try h.broker.count("p")
                == ConcurrencyCount(
                    total: 2, idle: 0, reserved: 2, running: 2, created: 0, connected: 0, suspended: 0, grace: 0))
        #expect(h.broker.reservation(of: "c", in: "p") == nil)
    }

    @Test func aReservationLapsesAfterItsTTL() throws {
        var h = Harness()
        try h.project(capacity: 1, reservationTtl: 30_000)
        let a = try h.apply("alice")
        #expect(a.reservedUntil == h.now + 30_000)
        h.pass(29_999)
        #expect(h.broker.reservation(of: "alice", in: "p") != nil)
        h.pass(1)
        #expect(h.broker.reservation(of: "alice", in: "p") == nil)
        #expect(h.events.last?.type == .concurrencyReleased)
        #expect(throws: BrokerError.lockTimeout("alice")) { _ = try h.create("alice") }
        #expect(try h.apply("bob").concurrencyId == a.concurrencyId)
    }

    @Test func aDuplicateLoginKicksTheOlderConnection() throws {
        var h = Harness()
        try h.project(capacity: 1)
        let (s, c1) = try h.connected("alice")
        // The backend creates the session again for a second device.
        #expect(try h.apply("alice").reused)
        let s2 = try h.create("alice")
        #expect(s2.id == s.id && s2.epoch == 2)
        #expect(h.kicks.last == Kick(connection: c1, sessionId: s.id, reason: .replaced))
        #expect(h.state(s.id) == .grace && h.broker.session(s.id)?.lastCause == .replaced)
        // The old device's token (epoch 1) is fenced off; its frames too.
        #expect(throws: BrokerError.fenced(s.id)) { _ = try h.hello(s, epoch: 1) }
        #expect(throws: BrokerError.fenced(s.id)) { try h.heartbeat(s, c1) }
        let c2 = try h.hello(s2)
        #expect(h.state(s.id) == .connected && h.broker.session(s.id)?.connection == c2)
        // A second connection with the same epoch's token replaces the first.
        let c3 = try h.hello(s2)
        #expect(h.kicks.last == Kick(connection: c2, sessionId: s.id, reason: .replaced))
        #expect(h.broker.session(s.id)?.connection == c3)
        #expect(h.events(of: s.id).suffix(2) == [.sessionDisconnected, .sessionReconnected])
    }

    @Test func destroyEndsTheSessionTellsTheClientAndFreesTheSlot() throws {
        var h = Harness()
        try h.project(capacity: 1)
        let (s, c) = try h.connected("alice")
        guard case .session(let ended) = try h.run(.destroySession(s.id)) else {
            Issue.record("no session")
            return
        }
        #expect(ended.state == .ended && ended.endReason == .destroyed)
        #expect(h.kicks.last == Kick(connection: c, sessionId: s.id, reason: .destroyed))
        #expect(try h.broker.count("p").idle == 1)
        #expect(throws: BrokerError.sessionNotFound(s.id)) { try h.run(.destroySession(s.id)) }
        // By user, too.
        let (t, _) = try h.connected("bob")
        try h.run(.destroyUserSession("p", "bob"))
        #expect(h.state(t.id) == nil && h.ended(t.id)?.endReason == .destroyed)
        #expect(throws: BrokerError.sessionNotFound("p/bob")) { try h.run(.destroyUserSession("p", "bob")) }
        #expect(throws: BrokerError.projectNotFound("nope")) { try h.run(.destroyUserSession("nope", "bob")) }
    }

    @Test func byeEndsTheSessionAtOnce() throws {
        var h = Harness()
        try h.project(capacity: 1)
        let (s, c) = try h.connected("alice")
        try h.run(.bye(s.id, connection: c))
        #expect(h.ended(s.id)?.endReason == .left)
        #expect(h.kicks.last?.reason == .left)
        #expect(try h.broker.count("p").idle == 1)
        #expect(!(try h.apply("alice").reused))
    }

    @Test func aSuspensionMovesTheDeadlineWithinMaxSuspend() throws {
        var h = Harness()
        try h.project(capacity: 1, grace: 60_000, timeout: 15_000, maxSuspend: 120_000)
        let (s, c) = try h.connected("alice")
        try h.run(.suspend(s.id, connection: c, expectedMs: 600_000, reason: .background))
        #expect(h.state(s.id) == .suspended)
        #expect(h.broker.session(s.id)?.deadlineAt == h.now + 120_000)  // capped by maxSuspendMs
        #expect(try h.broker.count("p").suspended == 1)
        // Its socket may die in the background: the declared deadline still holds.
        try h.run(.connectionLost(s.id, connection: c, cause: .closed))
        h.pass(119_999)
        #expect(h.state(s.id) == .suspended)
        h.pass(1)
        #expect(h.state(s.id) == .grace && h.broker.session(s.id)?.lastCause == .heartbeatTimeout)
        #expect(h.effects.contains(.deadlineExpired(.suspension, latenessMs: 0)))
    }

    @Test func aHeartbeatEndsASuspension() throws {
        var h = Harness()
        try h.project(capacity: 1, timeout: 15_000, maxSuspend: 120_000)
        let (s, c) = try h.connected("alice")
        try h.run(.suspend(s.id, connection: c, expectedMs: 1_000, reason: .pagehide))
        // A short declared absence never shortens the heartbeat timeout.
        #expect(h.broker.session(s.id)?.deadlineAt == h.now + 15_000)
        h.pass(5_000)
        try h.heartbeat(s, c)
        #expect(h.state(s.id) == .connected && h.events(of: s.id).last == .sessionConnected)
        #expect(h.broker.session(s.id)?.deadlineAt == h.now + 15_000)
        #expect(
            throws: BrokerError.invalidParameter(field: "expectedMs", message: "must be between 1 and 86400000, got 0")
        ) {
            try h.run(.suspend(s.id, connection: c, expectedMs: 0, reason: .background))
        }
        #expect(h.state(s.id) == .connected)
    }

    @Test func aTransportKeepaliveKeepsAConnectionButNotASuspension() throws {
        var h = Harness()
        try h.project(capacity: 1, timeout: 15_000, maxSuspend: 120_000)
        let (s, c) = try h.connected("alice")
        h.pass(10_000)
        try h.run(.keepalive(s.id, connection: c))
        #expect(h.broker.session(s.id)?.deadlineAt == h.now + 15_000)
        try h.run(.suspend(s.id, connection: c, expectedMs: 60_000, reason: .background))
        let deadline = h.broker.session(s.id)?.deadlineAt
        h.pass(10_000)
        try h.run(.keepalive(s.id, connection: c))
        #expect(h.state(s.id) == .suspended && h.broker.session(s.id)?.deadlineAt == deadline)
        #expect(throws: BrokerError.fenced(s.id)) { try h.run(.keepalive(s.id, connection: c + 1)) }
    }

    @Test func aStalledServerShiftsDeadlinesInsteadOfExpiringEveryone() throws {
        var h = Harness(configuration: BrokerConfiguration(tickMs: 250, stallThresholdMs: 1_000))
        try h.project(capacity: 2, grace: 0, timeout: 15_000)
        let (s, c) = try h.connected("alice")
        h.pass(14_000)
        // The process is paused for 5 s: alice's deadline passed meanwhile, but her heartbeats sat unread.
        h.jump(5_000)
        #expect(h.state(s.id) == .connected)
        #expect(h.effects.contains(.deadlinesShifted(byMs: 5_000)))
        #expect(h.broker.session(s.id)?.deadlineAt == h.now + 1_000)  // 1 s was left before the pause
        try h.heartbeat(s, c)  // the buffered heartbeat is read
        #expect(h.state(s.id) == .connected)
        // A server that keeps ticking does expire a silent client on time.
        h.pass(15_000)
        #expect(h.state(s.id) == nil && h.ended(s.id)?.endReason == .heartbeatTimeout)
    }

    @Test func aClientThatNeverConnectsEndsAfterTheConnectTimeout() throws {
        var h = Harness()
        try h.project(capacity: 1, connectTimeout: 60_000)
        _ = try h.apply("alice")
        let s = try h.create("alice")
        #expect(s.state == .created && s.deadlineAt == h.now + 60_000)
        #expect(try h.broker.count("p").created == 1)
        h.pass(60_000)
        #expect(h.ended(s.id)?.endReason == .neverConnected)
        #expect(try h.broker.count("p").idle == 1)
    }

    @Test func createSessionNeedsALiveReservationOrASessionInGrace() throws {
        var h = Harness()
        try h.project(capacity: 2)
        #expect(throws: BrokerError.lockTimeout("alice")) { _ = try h.create("alice") }
        let (s, c) = try h.connected("alice")
        // Connected, and no new reservation: refused.
        #expect(throws: BrokerError.lockTimeout("alice")) { _ = try h.create("alice") }
        try h.run(.connectionLost(s.id, connection: c, cause: .closed))
        // In grace: allowed without a reservation.
        let renewed = try h.create("alice")
        #expect(renewed.epoch == 2 && renewed.state == .grace)
        #expect(throws: BrokerError.projectNotFound("nope")) { _ = try h.create("alice", in: "nope") }
    }
}
