import Testing
import TetherCore

@testable import TetherStore

/// A transaction's row changes reduced to their final state per key (what the PostgreSQL store writes in
/// multi-row statements).
@Suite struct RowBatchTests {
    typealias Change = RowChange<String>
    typealias Batch = RowBatch<String>

    @Test func theLastChangeOfAKeyIsItsFinalStateInFirstChangedOrder() {
        let batch = Batch([
            .upsertSession("s1 v1", id: "s1"), .upsertSession("s2 v1", id: "s2"), .upsertSession("s1 v2", id: "s1"),
            .setting(key: "k", value: "1"), .setting(key: "k", value: "2"),
            .insertEvent("e1", cursor: 1), .insertEvent("e2", cursor: 2),
            .upsertReservation("r v1", projectId: "p", userId: "a"), .deleteReservation(projectId: "p", userId: "a"),
            .deleteReservation(projectId: "p", userId: "b"), .upsertReservation("r b", projectId: "p", userId: "b"),
        ])
        #expect(batch.sessions.map(\.1) == ["s1 v2", "s2 v1"])
        #expect(batch.settings.map(\.1) == ["2"])
        #expect(batch.events == ["e1", "e2"])
        #expect(Batch.deletions(batch.reservations).map(\.userId) == ["a"])
        #expect(Batch.upserts(batch.reservations) == ["r b"])
        #expect(batch.cascades.isEmpty)
    }

    @Test func aProjectsDeletionTakesTheReservationsWrittenBeforeItNotThoseAfter() {
        let batch = Batch([
            .upsertProject("p v1", id: "p"), .upsertReservation("p a", projectId: "p", userId: "a"),
            .upsertReservation("q a", projectId: "q", userId: "a"), .deleteProject(id: "p"),
            .upsertReservation("p b", projectId: "p", userId: "b"),
        ])
        #expect(batch.cascades == ["p"])
        #expect(Batch.deletions(batch.projects) == ["p"])
        #expect(Batch.upserts(batch.reservations) == ["q a", "p b"])
        #expect(Batch.deletions(batch.reservations).map(\.userId) == ["a"])
    }

    @Test func aProjectDeletedThenMadeAgainIsWrittenAndItsOldReservationsGo() {
        let batch = Batch([.deleteProject(id: "p"), .upsertProject("p v2", id: "p")])
        #expect(batch.cascades == ["p"])
        #expect(Batch.upserts(batch.projects) == ["p v2"])
        #expect(Batch.deletions(batch.projects).isEmpty)
    }
}
