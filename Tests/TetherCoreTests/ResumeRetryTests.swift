import Testing
import TetherCore

/// A resume whose `welcome` was lost (the link broke between the server's acceptance and the client) may be
/// tried again with the same token for ``BrokerConfiguration/resumeRetryWindowMs``; older tokens stay refused.
@Suite struct ResumeRetryTests {
    /// A connected session whose client has spent its first resume token ("t1", issued by the hello as `rt<c>`)
    /// once: `t1` is now the previous token and "t2" the current one.
    func resumedOnce(window: Millis = 30_000) throws -> (Harness, Session, first: String, ConnectionID) {
        var h = Harness(configuration: BrokerConfiguration(resumeRetryWindowMs: window))
        try h.project(capacity: 1, timeout: 60_000)  // the connections outlive the window
        let (s, c) = try h.connected("alice")
        let first = try #require(h.broker.session(s.id)?.resumeTokenHash)
        try h.run(.connectionLost(s.id, connection: c, cause: .closed))
        try h.run(.resume(resumeTokenHash: first, connection: 20, transport: .websocket, newResumeTokenHash: "t2"))
        return (h, s, first, 20)
    }

    @Test func theSpentTokenIsAnsweredAgainWithANewEpochAndTheOldConnectionReplaced() throws {
        var (h, s, first, c2) = try resumedOnce()
        #expect(h.broker.session(s.id)?.epoch == s.epoch + 1)
        h.pass(29_000)
        guard
            case .session(let again) = try h.run(
                .resume(resumeTokenHash: first, connection: 21, transport: .tcp, newResumeTokenHash: "t3"))
        else { return }
        #expect(again.epoch == s.epoch + 2 && again.connection == 21 && again.state == .connected)
        #expect(again.concurrencyId == s.concurrencyId && again.resumeTokenHash == "t3")
        #expect(h.kicks.last == Kick(connection: c2, sessionId: s.id, reason: .replaced))
        // The token the lost welcome carried is not the client's: it no longer opens the session.
        #expect(throws: BrokerError.badToken) {
            try h.run(.resume(resumeTokenHash: "t2", connection: 22, transport: .tcp, newResumeTokenHash: "x"))
        }
        // The current token works as always.
        try h.run(.resume(resumeTokenHash: "t3", connection: 23, transport: .tcp, newResumeTokenHash: "t4"))
        #expect(h.broker.session(s.id)?.connection == 23)
    }

    @Test func theSpentTokenIsRefusedOnceItsWindowIsOver() throws {
        var (h, s, first, c2) = try resumedOnce(window: 5_000)
        h.pass(5_001)
        #expect(throws: BrokerError.badToken) {
            try h.run(.resume(resumeTokenHash: first, connection: 21, transport: .tcp, newResumeTokenHash: "t3"))
        }
        // Refused for good, and the session is untouched.
        #expect(h.broker.session(s.id)?.connection == c2 && h.broker.session(s.id)?.previousResumeTokenHash == nil)
        #expect(throws: BrokerError.badToken) {
            try h.run(.resume(resumeTokenHash: first, connection: 22, transport: .tcp, newResumeTokenHash: "t4"))
        }
    }

    @Test func aTokenTwoRotationsOldIsRefused() throws {
        var (h, s, first, _) = try resumedOnce()
        try h.run(.resume(resumeTokenHash: "t2", connection: 30, transport: .websocket, newResumeTokenHash: "t3"))
        #expect(throws: BrokerError.badToken) {
            try h.run(.resume(resumeTokenHash: first, connection: 31, transport: .tcp, newResumeTokenHash: "x"))
        }
        #expect(h.broker.session(s.id)?.connection == 30)
        // The one just spent may still be retried.
        try h.run(.resume(resumeTokenHash: "t2", connection: 32, transport: .websocket, newResumeTokenHash: "t4"))
        #expect(h.broker.session(s.id)?.connection == 32)
    }

    @Test func aClientTokenHelloOrANewEpochOrTheEndForgetsTheSpentToken() throws {
        // A hello with the client token: the spent resume token is no longer accepted.
        var (h, s, first, _) = try resumedOnce()
        guard let now = h.broker.session(s.id) else { return }
        _ = try h.hello(now)
        #expect(throws: BrokerError.badToken) {
            try h.run(.resume(resumeTokenHash: first, connection: 40, transport: .tcp, newResumeTokenHash: "x"))
        }
        // CreateSession again (a new epoch from the backend).
        var (h2, s2, first2, c2) = try resumedOnce()
        try h2.run(.connectionLost(s2.id, connection: c2, cause: .closed))
        _ = try h2.create("alice")
        #expect(throws: BrokerError.badToken) {
            try h2.run(.resume(resumeTokenHash: first2, connection: 41, transport: .tcp, newResumeTokenHash: "x"))
        }
        // The session's end.
        var (h3, s3, first3, _) = try resumedOnce()
        try h3.run(.destroySession(s3.id))
        #expect(throws: BrokerError.badToken) {
            try h3.run(.resume(resumeTokenHash: first3, connection: 42, transport: .tcp, newResumeTokenHash: "x"))
        }
    }

    @Test func theSpentTokenOutlivesARestartWithinItsWindow() throws {
        let (h, s, first, _) = try resumedOnce()
        let snapshot = h.broker.snapshot
        #expect(snapshot.sessions.first?.previousResumeTokenHash == first)
        var restored = Broker(configuration: h.broker.configuration, restoring: snapshot, at: h.now + 1_000)
        let reply = try restored.handle(
            .resume(resumeTokenHash: first, connection: 50, transport: .websocket, newResumeTokenHash: "t3")
        ).reply
        guard case .session(let back) = reply else {
            Issue.record("not resumed: \(reply)")
            return
        }
        #expect(back.epoch == s.epoch + 2 && back.concurrencyId == s.concurrencyId)
    }

    @Test func theRuleJudgesCurrentPreviousAndAnythingElse() {
        let judge = { (hash: String, now: Millis) in
            ResumeTokenRule.judge(hash, current: "c", previous: "p", previousUntil: 100, now: now)
        }
        #expect(judge("c", 1_000) == .current)
        #expect(judge("p", 100) == .retry)
        #expect(judge("p", 101) == .refused)
        #expect(judge("x", 0) == .refused)
        #expect(ResumeTokenRule.judge("p", current: "c", previous: "p", previousUntil: nil, now: 0) == .refused)
    }
}
