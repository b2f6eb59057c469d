import Testing

@testable import TetherCore

/// CAR's CreateSession names no project: `Broker.projectOfLatestHold` picks the project of the user's latest
/// hold among those the key sees.
@Suite struct LatestHoldTests {
    @Test func theLatestLiveReservationWins() throws {
        var h = Harness()
        try h.project("a")
        try h.project("b")
        try h.project("c")
        _ = try h.apply("u", in: "a")
        h.pass(1_000)
        _ = try h.apply("u", in: "b")
        #expect(h.broker.projectOfLatestHold(of: "u", at: h.now, among: { _ in true }) == "b")
        // Applying again renews: a is the latest now.
        h.pass(1_000)
        _ = try h.apply("u", in: "a")
        #expect(h.broker.projectOfLatestHold(of: "u", at: h.now, among: { _ in true }) == "a")
        // A project the key does not see is not a candidate.
        #expect(h.broker.projectOfLatestHold(of: "u", at: h.now, among: { $0 != "a" }) == "b")
        #expect(h.broker.projectOfLatestHold(of: "u", at: h.now, among: { $0 == "c" }) == nil)
        #expect(h.broker.projectOfLatestHold(of: "someone-else", at: h.now, among: { _ in true }) == nil)
    }

    @Test func aLapsedReservationIsNoHoldAndTiesGoToTheSmallerId() throws {
        var h = Harness()
        try h.project("b", reservationTtl: 5_000)
        try h.project("a", reservationTtl: 5_000)
        _ = try h.apply("u", in: "b")
        _ = try h.apply("u", in: "a")
        #expect(h.broker.projectOfLatestHold(of: "u", at: h.now, among: { _ in true }) == "a")
        #expect(h.broker.projectOfLatestHold(of: "u", at: h.now + 5_000, among: { _ in true }) == nil)
    }

    @Test func withoutAReservationTheSessionInGraceThenTheNewest() throws {
        var h = Harness()
        try h.project("a")
        try h.project("b")
        let (inA, connection) = try h.connected("u", in: "a")
        h.pass(1_000)
        _ = try h.connected("u", in: "b")
        // Both connected, no reservation left: the newest session's project.
        #expect(h.broker.projectOfLatestHold(of: "u", at: h.now, among: { _ in true }) == "b")
        // The one in grace comes first: that is the session a CreateSession resumes.
        try h.run(.connectionLost(inA.id, connection: connection, cause: .closed))
        #expect(h.broker.session(inA.id)?.state == .grace)
        #expect(h.broker.projectOfLatestHold(of: "u", at: h.now, among: { _ in true }) == "a")
        // A reservation still beats both.
        try h.project("c")
        _ = try h.apply("u", in: "c")
        #expect(h.broker.projectOfLatestHold(of: "u", at: h.now, among: { _ in true }) == "c")
    }
}
