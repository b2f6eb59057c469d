import Testing
import TetherCore

/// Connections whose heartbeats the shell records itself (issue 13, item 2): no heartbeat reaches the broker;
/// when the broker's deadline for such a connection falls due, it asks when the shell last heard from it and
/// moves the deadline, or expires it. Every deadline that outlives a connection stays the broker's as before.
@Suite struct ShellWatchedLivenessTests {
    static func harness() -> Harness {
        Harness(configuration: BrokerConfiguration(shellWatchedTransports: [.websocket, .tcp]))
    }

    /// What the shell heard, by connection.
    final class Heard: @unchecked Sendable {
        var at: [ConnectionID: Millis] = [:]
    }

    @Test func aDueDeadlineMovesToTheLastTimeHeardPlusTheTimeoutWithoutAnEvent() throws {
        var h = Self.harness()
        try h.project(timeout: 15_000)
        let (s, c) = try h.connected("alice")
        let start = h.now
        #expect(h.broker.session(s.id)?.deadlineAt == start + 15_000)
        let heard = Heard()
        heard.at[c] = start + 10_000  // heard from 10 s in: the deadline becomes 25 s
        let before = h.events.count
        h.tick(to: start + 15_000, heard: heard)
        #expect(h.state(s.id) == .connected && h.events.count == before)
        #expect(h.broker.session(s.id)?.deadlineAt == start + 25_000)
        // Heard from again at 24 s: at 25 s it moves to 39 s; nothing is saved (heartbeat deadlines never are).
        heard.at[c] = start + 24_000
        let saves = h.saves(s.id)
        h.tick(to: start + 25_000, heard: heard)
        #expect(h.broker.session(s.id)?.deadlineAt == start + 39_000)
        #expect(h.saves(s.id) == saves)
        // Silent since: expired at 39 s exactly, lateness measured from the real deadline.
        h.tick(to: start + 39_000, heard: heard)
        #expect(h.state(s.id) == .grace && h.broker.session(s.id)?.lastCause == .heartbeatTimeout)
        #expect(h.kicks.last == Kick(connection: c, sessionId: s.id, reason: .expired))
        #expect(h.effects.contains(.deadlineExpired(.heartbeat, latenessMs: 0)))  // at its tick
    }

    /// The shell marks a connection whose welcome is not yet durable as heard later than any time: the broker
    /// counts it as heard at each check, so a commit slower than the timeout expires nobody; once the mark is
    /// a real time again, silence expires it as usual.
    @Test func aConnectionWaitingOnTheServerCountsAsHeardNow() throws {
        var h = Self.harness()
        try h.project(timeout: 15_000)
        let (s, c) = try h.connected("alice")
        let start = h.now
        let heard = Heard()
        heard.at[c] = .max
        h.tick(to: start + 15_000, heard: heard)
        #expect(h.state(s.id) == .connected)
        #expect(h.broker.session(s.id)?.deadlineAt == start + 30_000)
        h.tick(to: start + 30_000, heard: heard)
        #expect(h.state(s.id) == .connected)
        heard.at[c] = start + 31_000  // welcomed at 31 s, silent since: lost at 46 s
        h.tick(to: start + 45_000, heard: heard)
        #expect(h.state(s.id) == .connected)
        h.tick(to: start + 46_000, heard: heard)
        #expect(h.state(s.id) == .grace && h.broker.session(s.id)?.lastCause == .heartbeatTimeout)
    }

    @Test func withoutARecordTheDeadlineExpiresAsTheBrokersOwn() throws {
        var h = Self.harness()
        try h.project(timeout: 15_000)
        let (s, _) = try h.connected("alice")
        h.tick(to: h.now + 15_000, heard: Heard())
        #expect(h.state(s.id) == .grace)
    }

    @Test func heartbeatsOfAWatchedConnectionDoNotMoveTheBrokersDeadline() throws {
        var h = Self.harness()
        try h.project(timeout: 15_000)
        let (s, c) = try h.connected("alice")
        let deadline = h.broker.session(s.id)?.deadlineAt
        h.pass(5_000)
        try h.heartbeat(s, c)
        #expect(h.broker.session(s.id)?.deadlineAt == deadline)
    }

    @Test func aSuspensionIsTheBrokersAndItsEndArmsTheHeartbeatDeadlineAgain() throws {
        var h = Self.harness()
        try h.project(timeout: 15_000, maxSuspend: 60_000)
        let (s, c) = try h.connected("alice")
        try h.run(.suspend(s.id, connection: c, expectedMs: 60_000, reason: .background))
        #expect(h.broker.session(s.id)?.deadlineAt == h.now + 60_000)
        // What the shell heard does not extend a suspension.
        let heard = Heard()
        heard.at[c] = h.now + 59_000
        h.tick(to: h.now + 30_000, heard: heard)
        try h.run(.heartbeat(s.id, connection: c))  // back: the suspension ends
        #expect(h.state(s.id) == .connected && h.broker.session(s.id)?.deadlineAt == h.now + 15_000)
        try h.run(.suspend(s.id, connection: c, expectedMs: 60_000, reason: .background))
        h.tick(to: h.now + 60_001, heard: heard)
        #expect(h.state(s.id) == .grace)
    }

    @Test func anHTTPClientsDeadlineIgnoresTheRecord() throws {
        var h = Self.harness()
        try h.project(timeout: 15_000)
        _ = try h.apply("bob")
        let s = try h.create("bob")
        let c = try h.hello(s, transport: .http)
        let heard = Heard()
        heard.at[c] = h.now + 14_000
        h.tick(to: h.now + 15_001, heard: heard)
        #expect(h.state(s.id) == .grace)
    }
}

extension Harness {
    /// Ticks the broker to `time` with what the shell heard.
    mutating func tick(to time: Millis, heard: ShellWatchedLivenessTests.Heard) {
        while now < time {  // in ticks no longer than the broker's tick (no stall)
            now = min(time, now + broker.configuration.tickMs)
            effects += broker.tick(at: now) { heard.at[$0] }
        }
    }

    /// How many times the session's record was queued for saving.
    func saves(_ id: SessionID) -> Int {
        effects.filter { if case .saveSession(let s) = $0 { s.id == id } else { false } }.count
    }
}
