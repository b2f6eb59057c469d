import Testing
import TetherCore

/// Connections whose liveness the shell watches on their event loops (issue 13, item 2): the broker arms
/// no heartbeat deadline for them and learns of a silent one from `heartbeatTimeout`; every deadline that
/// outlives a connection stays the broker's.
@Suite struct ShellWatchedLivenessTests {
    static func harness() -> Harness {
        Harness(configuration: BrokerConfiguration(shellWatchedTransports: [.websocket, .tcp]))
    }

    @Test func aWatchedConnectionHasNoBrokerDeadlineAndOutlivesItsTimeout() throws {
        var h = Self.harness()
        try h.project(timeout: 15_000)
        let (s, c) = try h.connected("alice")
        #expect(h.broker.session(s.id)?.deadlineAt == nil)
        h.pass(60_000)  // four timeouts without a heartbeat: the broker does not expire it
        #expect(h.state(s.id) == .connected)
        // A report from the shell is the expiry: kicked `expired`, grace with cause heartbeatTimeout.
        try h.run(.heartbeatTimeout(s.id, connection: c, latenessMs: 3))
        #expect(h.state(s.id) == .grace && h.broker.session(s.id)?.lastCause == .heartbeatTimeout)
        #expect(h.kicks.last == Kick(connection: c, sessionId: s.id, reason: .expired))
        #expect(h.effects.contains(.deadlineExpired(.heartbeat, latenessMs: 3)))
        #expect(h.broker.session(s.id)?.deadlineAt == h.now + 90_000)  // the grace deadline is the broker's
    }

    @Test func aStaleReportChangesNothing() throws {
        var h = Self.harness()
        try h.project()
        let (s, c) = try h.connected("alice")
        try h.run(.heartbeatTimeout(s.id, connection: c + 100, latenessMs: 0))
        #expect(h.state(s.id) == .connected)
        try h.run(.suspend(s.id, connection: c, expectedMs: 60_000, reason: .background))
        try h.run(.heartbeatTimeout(s.id, connection: c, latenessMs: 0))
        #expect(h.state(s.id) == .suspended)
    }

    @Test func aSuspensionIsTheBrokersAndItsEndGivesTheConnectionBackToTheShell() throws {
        var h = Self.harness()
        try h.project(timeout: 15_000, maxSuspend: 60_000)
        let (s, c) = try h.connected("alice")
        try h.run(.suspend(s.id, connection: c, expectedMs: 60_000, reason: .background))
        #expect(h.broker.session(s.id)?.deadlineAt == h.now + 60_000)
        try h.run(.heartbeat(s.id, connection: c))  // back: the suspension ends
        #expect(h.state(s.id) == .connected && h.broker.session(s.id)?.deadlineAt == nil)
        h.pass(120_000)
        #expect(h.state(s.id) == .connected)
        // A suspension that runs out is still the broker's to expire.
        try h.run(.suspend(s.id, connection: c, expectedMs: 60_000, reason: .background))
        h.pass(60_001)
        #expect(h.state(s.id) == .grace)
    }

    @Test func anHTTPClientStaysTheBrokersToWatch() throws {
        var h = Self.harness()
        try h.project(timeout: 15_000)
        _ = try h.apply("bob")
        let s = try h.create("bob")
        _ = try h.hello(s, transport: .http)
        #expect(h.broker.session(s.id)?.deadlineAt != nil)
        h.pass(15_001)
        #expect(h.state(s.id) == .grace)
    }
}
