import Testing
import TetherCore

/// Every event that carries a `sessionId` carries the session's epoch and the next `sessionSeq`, the
/// concurrency events of a session's slot included (API.md "Events"; issue 12, item 3).
@Suite struct SessionSeqTests {
    @Test func aReleaseOfASessionsSlotTakesTheNextSessionSeq() throws {
        var h = Harness()
        try h.project()
        _ = try h.apply("alice")
        let s = try h.create("alice")
        _ = try h.hello(s)
        try h.run(.destroySession(s.id))
        let mine = h.events.filter { $0.sessionId == s.id }
        #expect(mine.map(\.type) == [.sessionCreated, .sessionConnected, .sessionEnded, .concurrencyReleased])
        #expect(mine.map(\.sessionSeq) == [1, 2, 3, 4])
        #expect(mine.allSatisfy { $0.epoch == 1 })
        // The saved final record keeps the last sessionSeq given, so that it never repeats.
        #expect(h.ended(s.id)?.seq == 4)
    }

    @Test func aReservationOfALiveSessionsSlotTakesTheNextSessionSeq() throws {
        var h = Harness()
        try h.project()
        _ = try h.apply("alice")
        let s = try h.create("alice")
        _ = try h.hello(s)
        h.clearEffects()
        let again = try h.apply("alice")
        #expect(again.reused)
        let reserved = try #require(h.events.first { $0.type == .concurrencyReserved })
        #expect(reserved.sessionId == s.id && reserved.sessionSeq == 3 && reserved.epoch == 1)
        // Saved, so that a restart continues after it.
        let saved = h.effects.compactMap { if case .saveSession(let x) = $0, x.id == s.id { x } else { nil } }
        #expect(saved.last?.seq == 3)
        // A reservation of a user with no session names no session.
        _ = try h.apply("bob")
        let plain = try #require(h.events.last { $0.type == .concurrencyReserved })
        #expect(plain.sessionId == nil && plain.sessionSeq == nil && plain.epoch == nil)
    }
}
