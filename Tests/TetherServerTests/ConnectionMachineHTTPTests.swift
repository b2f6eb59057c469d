import Testing
import TetherCore
import TetherProtocol

@testable import TetherServer

/// The same machine for HTTP heartbeats: attach by the first heartbeat, fencing by epoch, kicks told at
/// the next heartbeat, all without a socket (issue 13, item 1).
@Suite struct ConnectionMachineHTTPTests {
    static let t0: Millis = 5_000
    static let session = Session(
        id: "s-9", projectId: "p", userId: "u", concurrencyId: "cc-p-1", epoch: 2, state: .connected, createdAt: t0)

    static func actions(_ a: ConnectionActions) -> [ConnectionAction] { Array(a) }

    /// A heartbeat that would attach the session while hellos are over the server's rate: 503 `busy` with the
    /// pacer's `retryAfterMs`, nothing submitted; the next one attaches as usual. Once attached, the pacer's
    /// answer does not apply (heartbeats are not hellos).
    @Test func anAttachOverTheHelloRateIsToldBusyAndTheSessionIsUntouched() {
        var m = ConnectionMachine(httpSession: "s-9", epoch: 2, now: Self.t0)
        let busy = Self.actions(
            m.httpRequest(.ping(seq: 1, t: 10), attach: (41, "h41"), busyRetryAfterMs: 800, at: Self.t0 + 1))
        #expect(busy == [.answer(.busy(retryAfterMs: 800))])
        #expect(m.httpNeedsAttach)
        let next = Self.actions(m.httpRequest(.ping(seq: 2, t: 11), attach: (42, "h42"), at: Self.t0 + 900))
        #expect(
            next.contains(.submit(.hello("s-9", epoch: 2, connection: 42, transport: .http, resumeTokenHash: "h42"))))
        _ = m.helloAccepted(Self.session, policy: Policy(), at: Self.t0 + 900)
        let attached = Self.actions(
            m.httpRequest(.ping(seq: 3, t: 12), attach: nil, busyRetryAfterMs: 500, at: Self.t0 + 901))
        #expect(attached.last == .answer(.message(.pong(seq: 3, t: 12, st: Self.t0 + 901))))
    }

    @Test func theFirstHeartbeatAttachesThenHeartbeatsAreGatedBeforeThePong() {
        var m = ConnectionMachine(httpSession: "s-9", epoch: 2, now: Self.t0)
        #expect(m.httpNeedsAttach)
        let first = Self.actions(m.httpRequest(.ping(seq: 1, t: 10), attach: (41, "h41"), at: Self.t0 + 1))
        #expect(
            first == [
                .countInbound, .attach(old: 0, new: 41),
                .submit(.hello("s-9", epoch: 2, connection: 41, transport: .http, resumeTokenHash: "h41")),
                .clientSeq(1, previous: nil), .heartbeat("s-9", connection: 41, endsSuspension: true),
                .answer(.message(.pong(seq: 1, t: 10, st: Self.t0 + 1))),
            ])
        #expect(Self.actions(m.helloAccepted(Self.session, policy: Policy(), at: Self.t0 + 1)).isEmpty)
        #expect(!m.httpNeedsAttach)
        let second = Self.actions(m.httpRequest(.ping(seq: 3, t: 11), attach: nil, at: Self.t0 + 2))
        #expect(
            second == [
                .countInbound, .clientSeq(3, previous: 1), .heartbeat("s-9", connection: 41, endsSuspension: true),
                .answer(.message(.pong(seq: 3, t: 11, st: Self.t0 + 2))),
            ])
    }

    @Test func anOlderEpochIsABadTokenAndAGoneSessionExpired() {
        var m = ConnectionMachine(httpSession: "s-9", epoch: 1, now: Self.t0)
        _ = m.httpRequest(.ping(seq: 1, t: 1), attach: (5, "h"), at: Self.t0)
        #expect(Self.actions(m.refused(.fenced("s-9"), at: Self.t0)) == [.answer(.kick(.badToken))])
        #expect(m.httpNeedsAttach)
        _ = m.httpRequest(.ping(seq: 1, t: 1), attach: (6, "h"), at: Self.t0)
        #expect(Self.actions(m.refused(.sessionNotFound("s-9"), at: Self.t0)) == [.answer(.kick(.expired))])
    }

    /// A heartbeat that would attach the session while the server stops is answered 503 `shutdown`, not 410
    /// `expired`: the session is kept for the restarted server, and the next heartbeat attaches it again.
    @Test func aHeartbeatRefusedWhileTheServerStopsIsAShutdown() {
        var m = ConnectionMachine(httpSession: "s-9", epoch: 1, now: Self.t0)
        _ = m.httpRequest(.ping(seq: 1, t: 1), attach: (5, "h"), at: Self.t0)
        #expect(Self.actions(m.refused(.stopping(retryAfterMs: 1_000), at: Self.t0)) == [.answer(.kick(.shutdown))])
        #expect(m.httpNeedsAttach)
        let again = Self.actions(m.httpRequest(.ping(seq: 2, t: 2), attach: (6, "h"), at: Self.t0 + 1))
        #expect(again.contains(.attach(old: 5, new: 6)))
    }

    /// The link decides whether a heartbeat attaches under its lock, so a kick that lands just before the
    /// heartbeat (every link is kicked `shutdown` at a graceful shutdown) makes it attach again; it was told
    /// `expired` when the decision was read before the kick.
    @Test func aHeartbeatAfterAKickAttachesAgainThroughTheLink() {
        let link = HTTPLink(session: "s-9", epoch: 2, now: Self.t0)
        var made = 0
        func request(_ seq: UInt64, _ id: ConnectionID) -> [ConnectionAction] {
            Array(
                link.request(.ping(seq: seq, t: 1), origin: nil, at: Self.t0) {
                    made += 1
                    return ((id, "h\(id)"), nil)
                })
        }
        #expect(request(1, 5).contains(.attach(old: 0, new: 5)))
        _ = link.run { $0.helloAccepted(Self.session, policy: Policy(), at: Self.t0) }
        #expect(!request(2, 6).contains { if case .attach = $0 { true } else { false } })
        #expect(made == 1)
        link.kick(Kick(connection: 5, sessionId: "s-9", reason: .shutdown))
        let after = request(3, 7)
        #expect(made == 2 && after.contains(.attach(old: 5, new: 7)))
        #expect(!after.contains(.answer(.kick(.expired))))
    }

    @Test func kicksAreToldAtTheNextHeartbeat() {
        for (reason, forgets) in [(KickReason.destroyed, true), (.left, true), (.replaced, false)] {
            var m = ConnectionMachine(httpSession: "s-9", epoch: 2, now: Self.t0)
            _ = m.httpRequest(.ping(seq: 1, t: 1), attach: (7, "h"), at: Self.t0)
            _ = m.helloAccepted(Self.session, policy: Policy(), at: Self.t0)
            #expect(Self.actions(m.kicked(Kick(connection: 7, sessionId: "s-9", reason: reason))).isEmpty)
            let told = Self.actions(m.httpRequest(.ping(seq: 2, t: 2), attach: (8, "h"), at: Self.t0 + 1))
            #expect(told == (forgets ? [.forget] : []) + [.answer(.kick(reason))], "\(reason)")
        }
        // A timeout (`expired`) is not final: the next heartbeat attaches again with a new connection.
        var m = ConnectionMachine(httpSession: "s-9", epoch: 2, now: Self.t0)
        _ = m.httpRequest(.ping(seq: 1, t: 1), attach: (7, "h"), at: Self.t0)
        _ = m.helloAccepted(Self.session, policy: Policy(), at: Self.t0)
        _ = m.kicked(Kick(connection: 7, sessionId: "s-9", reason: .expired))
        #expect(m.httpNeedsAttach)
        let again = Self.actions(m.httpRequest(.ping(seq: 2, t: 2), attach: (8, "h8"), at: Self.t0 + 1))
        #expect(
            again.prefix(3) == [
                .countInbound, .attach(old: 7, new: 8),
                .submit(.hello("s-9", epoch: 2, connection: 8, transport: .http, resumeTokenHash: "h8")),
            ])
        #expect(again.contains(.clientSeq(2, previous: nil)))
    }

    @Test func wrongMessagesAndAnAttachedCommandRefused() {
        var m = ConnectionMachine(httpSession: "s-9", epoch: 2, now: Self.t0)
        for message in [ClientMessage.hello(.token("t")), .pong(seq: 1, t: 1)] {
            #expect(
                Self.actions(m.httpRequest(message, attach: (1, "h"), at: Self.t0))
                    == [.answer(.invalid(code: "InvalidParameter", message: "type: send ping, suspend or bye"))])
        }
        _ = m.httpRequest(.ping(seq: 1, t: 1), attach: (7, "h"), at: Self.t0)
        _ = m.helloAccepted(Self.session, policy: Policy(), at: Self.t0)
        let nap = Self.actions(m.httpRequest(.suspend(expectedMs: 9, reason: "nap"), attach: nil, at: Self.t0))
        #expect(nap == [.countInbound, .answer(.invalid(code: "InvalidParameterValue", message: "reason: unknown"))])
        let bye = Self.actions(m.httpRequest(.bye, attach: nil, at: Self.t0 + 3))
        #expect(
            bye == [
                .countInbound, .submit(.bye("s-9", connection: 7)),
                .answer(.message(.pong(seq: 0, t: 0, st: Self.t0 + 3))),
            ])
        #expect(Self.actions(m.refused(.sessionNotFound("s-9"), at: Self.t0)) == [.answer(.kick(.expired))])
    }
}
