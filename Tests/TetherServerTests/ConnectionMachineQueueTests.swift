import Testing
import TetherCore
import TetherProtocol

@testable import TetherServer

/// A queued client's connection as the pure machine sees it (issue 15, item 3): its hello, its place or offer
/// at once, pings answered and recorded against `queue.clientTimeoutMs`, `bye`, what may not be sent, and the
/// close that leaves the ticket its timeout.
@Suite struct ConnectionMachineQueueTests {
    static let t0 = ConnectionMachineTests.t0
    static let policy = Policy(
        capacity: 1, heartbeat: .init(intervalMs: 1_000, timeoutMs: 3_000), queue: QueuePolicy(clientTimeoutMs: 8_000))
    static let ticket = QueueTicket(ticketId: "qt-1", projectId: "p", userId: "u", priority: 0, seq: 1, enqueuedAt: t0)

    static func queued(_ place: QueuePlace = QueuePlace(ticket: ticket, position: 3, etaMs: 42_000))
        -> (ConnectionMachine, [ConnectionAction])
    {
        var m = ConnectionMachine(connection: 7, transport: .tcp, now: t0)
        _ = m.received(.success(.hello(.queueToken("q1.x"))), at: t0 + 1)
        let submit = Array(
            m.authenticated(
                .queue(project: "p", ticket: "qt-1"), newResumeToken: "r", newResumeTokenHash: "h", at: t0 + 1))
        #expect(submit == [.register, .submit(.queueHello("p", "qt-1", connection: 7))])
        let accepted = Array(m.queueAccepted(place, policy: policy, at: t0 + 2))
        return (m, accepted)
    }

    @Test func theAcceptedHelloTellsThePlaceAndWatchesTheClient() {
        let (m, accepted) = Self.queued()
        #expect(m.phase == .queued("p", "u"))
        #expect(
            accepted == [
                .watch(at: Self.t0 + 2, until: Self.t0 + 2 + 8_000),
                .send(.queued(ticketId: "qt-1", position: 3, etaMs: 42_000)), .startPinging,
            ])
        var offered = Self.ticket
        offered.offeredConcurrency = "cc-p-1"
        let (_, first) = Self.queued(
            QueuePlace(ticket: offered, position: 0, etaMs: 0, reservedUntil: Self.t0 + 30_000))
        #expect(first.contains(.send(.offered(concurrencyId: "cc-p-1", reservedUntil: Self.t0 + 30_000))))
    }

    @Test func pingsAreAnsweredAndRecordedAndByeLeaves() {
        var (m, _) = Self.queued()
        #expect(
            Array(m.received(.success(.ping(seq: 5, t: 9)), at: Self.t0 + 100)) == [
                .countInbound, .seen(at: Self.t0 + 100, until: Self.t0 + 100 + 8_000),
                .pong(seq: 5, t: 9, st: Self.t0 + 100),
            ])
        #expect(
            Array(m.noticed(QueueNotice(connection: 7, ticketId: "qt-1", kind: .place(position: 2, etaMs: 5_000))))
                == [.send(.queued(ticketId: "qt-1", position: 2, etaMs: 5_000))])
        let bye = Array(m.received(.success(.bye), at: Self.t0 + 200))
        #expect(bye.first == .countInbound)
        #expect(bye.contains(.submit(.queueBye("p", "u", connection: 7))))
        #expect(bye.contains(.close(.normal, reason: "left")))
        #expect(m.isClosed)
        #expect(
            Array(m.noticed(QueueNotice(connection: 7, ticketId: "qt-1", kind: .place(position: 1, etaMs: 0)))).isEmpty)
    }

    @Test func aSuspendOrASecondHelloIsAProtocolErrorAndACloseLeavesTheTicketItsTimeout() {
        var (m, _) = Self.queued()
        let suspend = Array(m.received(.success(.suspend(expectedMs: 1_000, reason: "background")), at: Self.t0 + 50))
        #expect(suspend.contains(.queueLost("p", "u", lastSeenAt: Self.t0 + 50)))
        #expect(suspend.contains { if case .close(.protocolError, _) = $0 { true } else { false } })
        var (other, _) = Self.queued()
        _ = other.received(.success(.ping(seq: 1, t: 1)), at: Self.t0 + 70)
        let closed = Array(other.peerClosed(cause: .closed))
        #expect(closed.contains(.queueLost("p", "u", lastSeenAt: Self.t0 + 70)))
        #expect(closed.contains(.unwatch))
        #expect(!closed.contains { if case .lost = $0 { true } else { false } }, "no session to lose")
    }
}
