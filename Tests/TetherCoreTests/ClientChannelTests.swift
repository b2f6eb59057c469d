import Testing
import TetherCore

@Suite struct ClientChannelTests {
    @Test func aResumeTokenIsSingleUseAndStartsANewEpoch() throws {
        var h = Harness(configuration: BrokerConfiguration(resumeRetryWindowMs: 1_000))
        try h.project(capacity: 1)
        let (s, c1) = try h.connected("alice")
        let token = try #require(h.broker.session(s.id)?.resumeTokenHash)
        try h.run(.connectionLost(s.id, connection: c1, cause: .closed))
        h.pass(30_000)
        // The session may move to another transport when it comes back.
        guard
            case .session(let resumed) = try h.run(
                .resume(resumeTokenHash: token, connection: 99, transport: .tcp, newResumeTokenHash: "next"))
        else { return }
        #expect(resumed.epoch == s.epoch + 1 && resumed.state == .connected && resumed.transport == .tcp)
        #expect(resumed.resumeTokenHash == "next" && resumed.concurrencyId == s.concurrencyId)
        #expect(h.events(of: s.id).last == .sessionReconnected)
        // Spent: once its retry window is over, the same token is refused, as is a made-up one.
        h.pass(1_001)
        #expect(throws: BrokerError.badToken) {
            try h.run(.resume(resumeTokenHash: token, connection: 100, transport: .websocket, newResumeTokenHash: "x"))
        }
        #expect(throws: BrokerError.badToken) {
            try h.run(
                .resume(resumeTokenHash: "forged", connection: 100, transport: .websocket, newResumeTokenHash: "y"))
        }
        #expect(h.broker.session(s.id)?.connection == 99)
        // The old epoch's client token is fenced off now.
        #expect(throws: BrokerError.fenced(s.id)) { _ = try h.hello(s) }
    }

    @Test func aResumeWhileConnectedReplacesTheOlderConnection() throws {
        var h = Harness()
        try h.project(capacity: 1)
        let (s, c1) = try h.connected("alice")
        let token = try #require(h.broker.session(s.id)?.resumeTokenHash)
        try h.run(.resume(resumeTokenHash: token, connection: 50, transport: .http, newResumeTokenHash: "n"))
        #expect(h.kicks.last == Kick(connection: c1, sessionId: s.id, reason: .replaced))
        #expect(h.events(of: s.id).suffix(2) == [.sessionDisconnected, .sessionReconnected])
        // The replaced connection's late close changes nothing.
        try h.run(.connectionLost(s.id, connection: c1, cause: .closed))
        #expect(h.state(s.id) == .connected)
    }

    @Test func aResumeTokenDiesWithItsSession() throws {
        var h = Harness()
        try h.project(capacity: 1, grace: 10_000)
        let (s, c) = try h.connected("alice")
        let token = try #require(h.broker.session(s.id)?.resumeTokenHash)
        try h.run(.connectionLost(s.id, connection: c, cause: .closed))
        h.pass(10_000)
        #expect(throws: BrokerError.badToken) {
            try h.run(.resume(resumeTokenHash: token, connection: 7, transport: .websocket, newResumeTokenHash: "z"))
        }
        #expect(throws: BrokerError.sessionNotFound(s.id)) { _ = try h.hello(s) }
    }

    @Test func framesFromUnknownSessionsOrOtherConnectionsAreRefused() throws {
        var h = Harness()
        try h.project(capacity: 1)
        let (s, c) = try h.connected("alice")
        #expect(throws: BrokerError.sessionNotFound("ghost")) { try h.run(.heartbeat("ghost", connection: c)) }
        #expect(throws: BrokerError.fenced(s.id)) { try h.run(.heartbeat(s.id, connection: c + 1)) }
        #expect(throws: BrokerError.fenced(s.id)) {
            try h.run(.suspend(s.id, connection: c + 1, expectedMs: 10, reason: .background))
        }
        #expect(throws: BrokerError.fenced(s.id)) { try h.run(.bye(s.id, connection: c + 1)) }
        #expect(throws: BrokerError.sessionNotFound("ghost")) { try h.run(.bye("ghost", connection: c)) }
        #expect(throws: BrokerError.sessionNotFound("ghost")) {
            try h.run(.suspend("ghost", connection: c, expectedMs: 10, reason: .background))
        }
        #expect(throws: BrokerError.fenced(s.id)) { _ = try h.hello(s, epoch: 7) }
        try h.run(.connectionLost(s.id, connection: c + 1, cause: .closed))
        try h.run(.connectionLost("ghost", connection: c, cause: .closed))
        #expect(h.state(s.id) == .connected)
    }

    @Test func shutdownKicksClientsAndKeepsTheirSessionsInGrace() throws {
        var h = Harness(configuration: BrokerConfiguration(restartGraceFloorMs: 30_000))
        try h.project("p", capacity: 3, grace: 0)
        let (a, ca) = try h.connected("a")
        let (b, cb) = try h.connected("b")
        try h.run(.suspend(b.id, connection: cb, expectedMs: 60_000, reason: .background))
        _ = try h.apply("c")
        let c = try h.create("c")
        try h.run(.shutdown(retryAfterMs: 2_000))
        #expect(
            Set(h.kicks.suffix(2)) == [
                Kick(connection: ca, sessionId: a.id, reason: .shutdown, retryAfterMs: 2_000),
                Kick(connection: cb, sessionId: b.id, reason: .shutdown, retryAfterMs: 2_000),
            ])
        // Grace is 0 in this project, yet a shutdown never ends sessions: the restart floor applies.
        #expect(h.state(a.id) == .grace && h.state(b.id) == .grace && h.state(c.id) == .created)
        #expect(h.broker.session(a.id)?.lastCause == .shutdown && h.broker.session(a.id)?.deadlineAt == h.now + 30_000)
    }

    @Test func listsAndLookupsSeeLiveSessions() throws {
        var h = Harness()
        try h.project(capacity: 3)
        let (a, _) = try h.connected("a")
        h.pass(1)
        _ = try h.apply("b")
        let b = try h.create("b")
        #expect(try h.broker.sessions(in: "p").map(\.id) == [a.id, b.id])
        #expect(try h.broker.sessions(in: "p", state: .created).map(\.id) == [b.id])
        #expect(h.broker.session(of: "a", in: "p")?.id == a.id)
        #expect(h.broker.allSessions.count == 2)
        #expect(h.broker.nextWakeup != nil && h.broker.nextWakeup! <= h.now + 250)
        #expect(Broker(now: 0).nextWakeup == nil)
    }

    @Test func historyKeepsTheCausesAndIsBounded() throws {
        var h = Harness(configuration: BrokerConfiguration(historyLimit: 4))
        try h.project(capacity: 1)
        let (s, c) = try h.connected("alice")
        try h.run(.connectionLost(s.id, connection: c, cause: .error))
        let history = try #require(h.broker.session(s.id)?.history)
        #expect(history.map(\.type) == [.sessionCreated, .sessionConnected, .sessionDisconnected])
        #expect(history.last?.cause == .error && history.last?.state == .grace)
        for _ in 0..<3 { _ = try h.hello(h.broker.session(s.id)!) }
        #expect(h.broker.session(s.id)?.history.count == 4)
    }
}
