import Testing
import TetherCore
import TetherProtocol

@testable import TetherServer

/// A queued client over HTTP as the pure machine sees it (issue 15, item 3: `hello {queueToken}` on HTTP too):
/// its first heartbeat attaches the ticket's live client and is answered with its place; later ones with the
/// broker's last word; a kick is told once; `bye` leaves; what a queued client may not send.
@Suite struct ConnectionMachineHTTPQueueTests {
    static let t0 = ConnectionMachineTests.t0
    static let policy = ConnectionMachineQueueTests.policy
    static let ticket = ConnectionMachineQueueTests.ticket
    static let ping = ClientMessage.ping(seq: 1, t: 5)

    /// A machine whose first heartbeat was accepted, and the answer to it.
    static func attached(_ place: QueuePlace = QueuePlace(ticket: ticket, position: 3, etaMs: 42_000))
        -> (ConnectionMachine, [ConnectionAction])
    {
        var m = ConnectionMachine(httpQueue: "p", ticket: "qt-1", now: t0)
        #expect(m.httpQueueNeedsAttach)
        let first = Array(m.httpQueueRequest(ping, attach: 11, at: t0 + 1))
        #expect(
            first == [.countInbound, .attach(old: 0, new: 11), .submit(.queueHello("p", "qt-1", connection: 11))])
        let accepted = Array(m.httpQueueAccepted(place, policy: policy, at: t0 + 2))
        return (m, accepted)
    }

    @Test func theFirstHeartbeatAttachesAndIsAnsweredWithThePlace() {
        let (m, accepted) = Self.attached()
        #expect(m.phase == .queued("p", "u"))
        #expect(!m.httpQueueNeedsAttach)
        #expect(
            accepted == [
                .watch(at: Self.t0 + 2, until: Self.t0 + 2 + 8_000),
                .answer(.message(.queued(ticketId: "qt-1", position: 3, etaMs: 42_000))),
            ])
    }

    @Test func laterHeartbeatsAreRecordedAndAnsweredWithTheBrokersLastWord() {
        var (m, _) = Self.attached()
        #expect(
            Array(m.httpQueueRequest(Self.ping, attach: nil, at: Self.t0 + 500)) == [
                .countInbound, .seen(at: Self.t0 + 500, until: Self.t0 + 500 + 8_000),
                .answer(.message(.queued(ticketId: "qt-1", position: 3, etaMs: 42_000))),
            ])
        #expect(
            m.noticed(QueueNotice(connection: 11, ticketId: "qt-1", kind: .place(position: 1, etaMs: 900))).isEmpty)
        #expect(
            Array(m.httpQueueRequest(Self.ping, attach: nil, at: Self.t0 + 600)).last
                == .answer(.message(.queued(ticketId: "qt-1", position: 1, etaMs: 900))))
        _ = m.noticed(
            QueueNotice(
                connection: 11, ticketId: "qt-1", kind: .offered(concurrencyId: "cc-1", reservedUntil: Self.t0 + 9_000))
        )
        #expect(
            Array(m.httpQueueRequest(Self.ping, attach: nil, at: Self.t0 + 700)).last
                == .answer(.message(.offered(concurrencyId: "cc-1", reservedUntil: Self.t0 + 9_000))))
    }

    @Test func anOfferedTicketIsAnsweredWithItsOfferAtOnce() {
        var offered = Self.ticket
        offered.offeredConcurrency = "cc-p-1"
        let (_, accepted) = Self.attached(
            QueuePlace(ticket: offered, position: 0, etaMs: 0, reservedUntil: Self.t0 + 30_000))
        #expect(accepted.last == .answer(.message(.offered(concurrencyId: "cc-p-1", reservedUntil: Self.t0 + 30_000))))
    }

    @Test(arguments: [KickReason.expired, .destroyed, .left])
    func aKickThatEndsTheTicketIsToldOnceAndTheLinkForgotten(_ reason: KickReason) {
        var (m, _) = Self.attached()
        #expect(m.kicked(Kick(connection: 11, sessionId: "qt-1", reason: reason)).isEmpty)
        #expect(
            Array(m.httpQueueRequest(Self.ping, attach: 12, at: Self.t0 + 100)) == [.forget, .answer(.kick(reason))])
    }

    @Test func aReplacedClientIsToldOnceAndItsNextHeartbeatTakesThePlaceBack() {
        var (m, _) = Self.attached()
        _ = m.kicked(Kick(connection: 11, sessionId: "qt-1", reason: .replaced))
        #expect(Array(m.httpQueueRequest(Self.ping, attach: 12, at: Self.t0 + 100)) == [.answer(.kick(.replaced))])
        #expect(m.httpQueueNeedsAttach)
        #expect(
            Array(m.httpQueueRequest(Self.ping, attach: 13, at: Self.t0 + 200)) == [
                .countInbound, .attach(old: 11, new: 13), .submit(.queueHello("p", "qt-1", connection: 13)),
            ])
    }

    @Test func byeLeavesTheQueueAndForgetsTheLink() {
        var (m, _) = Self.attached()
        #expect(
            Array(m.httpQueueRequest(.bye, attach: nil, at: Self.t0 + 100)) == [
                .countInbound, .seen(at: Self.t0 + 100, until: Self.t0 + 100 + 8_000),
                .submit(.queueBye("p", "u", connection: 11)), .forget,
                .answer(.message(.pong(seq: 0, t: 0, st: Self.t0 + 100))),
            ])
        // A bye before any attachment touches nothing.
        var fresh = ConnectionMachine(httpQueue: "p", ticket: "qt-1", now: Self.t0)
        #expect(Array(fresh.httpQueueRequest(.bye, attach: 5, at: Self.t0)) == [.answer(.kick(.left))])
    }

    @Test(arguments: [
        ClientMessage.suspend(expectedMs: 1_000, reason: "background"), .hello(.queueToken("q1.x")),
        .pong(seq: 1, t: 0),
    ])
    func whatAQueuedClientMayNotSendIsRefusedAndChangesNothing(_ message: ClientMessage) {
        var (m, _) = Self.attached()
        let actions = Array(m.httpQueueRequest(message, attach: nil, at: Self.t0 + 100))
        guard case .answer(.invalid(let code, _)) = actions.first, actions.count == 1 else {
            Issue.record("not refused: \(actions)")
            return
        }
        #expect(code == "InvalidParameter")
        #expect(m.phase == .queued("p", "u"))
    }

    @Test func aTicketThatLeftIsABadTokenAndHelloRateIsRespected() {
        var m = ConnectionMachine(httpQueue: "p", ticket: "qt-1", now: Self.t0)
        #expect(
            Array(m.httpQueueRequest(Self.ping, attach: 4, busyRetryAfterMs: 250, at: Self.t0)) == [
                .answer(.busy(retryAfterMs: 250))
            ])
        #expect(m.httpQueueNeedsAttach)
        _ = m.httpQueueRequest(Self.ping, attach: 4, at: Self.t0)
        #expect(
            Array(m.httpQueueRequest(Self.ping, attach: 5, at: Self.t0)) == [.answer(.busy(retryAfterMs: 100))],
            "a second heartbeat while the first attaches")
        #expect(Array(m.refused(.badToken, at: Self.t0 + 1)) == [.forget, .answer(.kick(.badToken))])
    }
}
