import Testing
import TetherCore
import TetherProtocol

@testable import TetherServer

/// The connection machine and `allowedOrigins`: the connection's `Origin` goes into its hello, a refusal is
/// kick `originNotAllowed` and close 4030 (403 over HTTP), and an HTTP session's later heartbeats must carry
/// the `Origin` that attached it.
@Suite struct ConnectionMachineOriginTests {
    static let t0: Millis = 10_000
    static let evil = "https://evil.example"
    static let app = "https://app.example.com"

    static func actions(_ a: ConnectionActions) -> [ConnectionAction] { Array(a) }

    @Test func aWebSocketHelloCarriesTheOriginAndItsRefusalIsKickAndClose4030() {
        var m = ConnectionMachine(connection: 7, transport: .websocket, now: Self.t0, origin: Self.evil)
        _ = m.received(.success(.hello(.token("t"))), at: Self.t0 + 1)
        let submit = Self.actions(
            m.authenticated(.token(session: "s-1", epoch: 1), newResumeToken: "r", newResumeTokenHash: "h", at: Self.t0)
        )
        #expect(
            submit.contains(
                .submit(
                    .hello(
                        "s-1", epoch: 1, connection: 7, transport: .websocket, resumeTokenHash: "h", origin: Self.evil)
                )))
        let refused = Self.actions(m.refused(.originNotAllowed(Self.evil), at: Self.t0 + 2))
        #expect(refused.contains(.send(.kick(reason: "originNotAllowed", retryAfterMs: nil))))
        #expect(refused.last == .close(CloseCode(rawValue: 4030), reason: "originNotAllowed"))
        #expect(!refused.contains { if case .lost = $0 { true } else { false } }, "no session was attached")
        #expect(CloseCode.forKick("originNotAllowed") == .originNotAllowed)
    }

    @Test func aResumeAndAQueueHelloCarryTheOriginToo() {
        var m = ConnectionMachine(connection: 8, transport: .tcp, now: Self.t0, origin: Self.app)
        _ = m.received(.success(.hello(.resumeToken("rt"))), at: Self.t0 + 1)
        let resume = Self.actions(
            m.authenticated(.resume(tokenHash: "old"), newResumeToken: "r", newResumeTokenHash: "new", at: Self.t0))
        #expect(
            resume.contains(
                .submit(
                    .resume(
                        resumeTokenHash: "old", connection: 8, transport: .tcp, newResumeTokenHash: "new",
                        origin: Self.app))))
        var q = ConnectionMachine(connection: 9, transport: .websocket, now: Self.t0, origin: Self.app)
        _ = q.received(.success(.hello(.queueToken("qt"))), at: Self.t0 + 1)
        let queue = Self.actions(
            q.authenticated(.queue(project: "p", ticket: "qt-1"), newResumeToken: "r", newResumeTokenHash: "h", at: 0))
        #expect(queue.contains(.submit(.queueHello("p", "qt-1", connection: 9, origin: Self.app))))
    }

    @Test func anHTTPSessionsHeartbeatsMustKeepTheOriginThatAttachedIt() {
        let session = Session(
            id: "s-9", projectId: "p", userId: "u", concurrencyId: "cc-p-1", epoch: 2, state: .connected,
            createdAt: Self.t0)
        var m = ConnectionMachine(httpSession: "s-9", epoch: 2, now: Self.t0)
        // Refused by the broker at attach: 403 with kick `originNotAllowed`, and the next heartbeat tries again.
        let first = Self.actions(
            m.httpRequest(.ping(seq: 1, t: 1), attach: (41, "h41"), origin: Self.evil, at: Self.t0))
        #expect(
            first.contains(
                .submit(
                    .hello("s-9", epoch: 2, connection: 41, transport: .http, resumeTokenHash: "h41", origin: Self.evil)
                )
            ))
        #expect(Self.actions(m.httpRefused(.originNotAllowed(Self.evil))) == [.answer(.kick(.originNotAllowed))])
        #expect(m.httpNeedsAttach)
        _ = m.httpRequest(.ping(seq: 2, t: 2), attach: (42, "h42"), origin: Self.app, at: Self.t0 + 1)
        _ = m.helloAccepted(session, policy: Policy(), at: Self.t0 + 1)
        let same = Self.actions(m.httpRequest(.ping(seq: 3, t: 3), attach: nil, origin: Self.app, at: Self.t0 + 2))
        #expect(same.last == .answer(.message(.pong(seq: 3, t: 3, st: Self.t0 + 2))))
        // Another page, or no Origin at all, on the attached session: refused, nothing counted or touched.
        for other in [Self.evil, nil] {
            let refused = Self.actions(m.httpRequest(.ping(seq: 4, t: 4), attach: nil, origin: other, at: Self.t0 + 3))
            #expect(refused == [.answer(.kick(.originNotAllowed))], "\(other ?? "no Origin")")
        }
        #expect(m.attachedSession == "s-9")
    }

    @Test func anHTTPQueuedClientsHeartbeatsMustKeepTheirOrigin() {
        var m = ConnectionMachine(httpQueue: "p", ticket: "qt-1", now: Self.t0)
        let first = Self.actions(m.httpQueueRequest(.ping(seq: 1, t: 1), attach: 5, origin: Self.app, at: Self.t0))
        #expect(first.contains(.submit(.queueHello("p", "qt-1", connection: 5, origin: Self.app))))
        #expect(
            Self.actions(m.httpQueueRefused(.originNotAllowed(Self.app))) == [
                .forget, .answer(.kick(.originNotAllowed)),
            ])
    }
}
