import Testing
import TetherCore

/// The broker's shape (issue 13, item 2), as `SWIM.Instance`'s: time moves only through `tick(at:)`, a
/// command returns its own effects, and a session's end is an explicit effect.
@Suite struct BrokerShapeTests {
    @Test func onlyATickMovesTimeAndExpiresDeadlines() throws {
        var b = Broker(now: 0)
        let policy = Policy(capacity: 1, reservationTtlMs: 1_000)
        _ = try b.handle(.createProject(id: "p", name: "p", policy: policy))
        _ = try b.handle(.apply("p", userId: "a", userIp: nil))
        // A command does not move time: the reservation's deadline has not passed for the broker.
        #expect(b.clock == 0)
        #expect(throws: BrokerError.self) { try b.handle(.apply("p", userId: "b", userIp: nil)) }
        let effects = b.tick(at: 1_000)
        #expect(b.clock == 1_000)
        #expect(effects.contains(.deleteReservation("p", "a")))
        #expect(try b.handle(.apply("p", userId: "b", userIp: nil)).reply != .none)
    }

    @Test func aCommandReturnsItsOwnEffectsAndTheEndOfASession() throws {
        var b = Broker(now: 0)
        _ = try b.handle(.createProject(id: "p", name: "p", policy: Policy(capacity: 1)))
        _ = try b.handle(.apply("p", userId: "a", userIp: nil))
        let (reply, created) = try b.handle(
            .createSession("p", userId: "a", sessionId: "s", metadata: SessionMetadata()))
        guard case .session(let s) = reply else { throw BrokerError.sessionNotFound("s") }
        #expect(created.contains { if case .event(let e) = $0 { e.type == .sessionCreated } else { false } })
        #expect(!created.contains(.sessionEnded("s")))
        let (_, destroyed) = try b.handle(.destroySession(s.id))
        let savedEnded = destroyed.firstIndex { if case .saveSession(let x) = $0 { x.state == .ended } else { false } }
        let ended = destroyed.firstIndex(of: .sessionEnded("s"))
        #expect(savedEnded != nil && ended != nil && savedEnded! < ended!)
        // Nothing is left queued for the next call.
        #expect(b.tick(at: 0).isEmpty)
    }
}
