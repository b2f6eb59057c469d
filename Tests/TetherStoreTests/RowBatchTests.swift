import Testing
import TetherCore

@testable import TetherStore

/// A transaction's row changes reduced to their final state per key (what the PostgreSQL store writes in
/// multi-row statements).
@Suite struct RowBatchTests {
    typealias Batch = RowBatch

    /// A row's values, marked by a name.
    static func v(_ name: String) -> [ColumnValue] { [.text(name)] }

    @Test func theLastChangeOfAKeyIsItsFinalStateInFirstChangedOrder() {
        let batch = Batch([
            .upsertSession(Self.v("s1 v1"), id: "s1"), .upsertSession(Self.v("s2 v1"), id: "s2"),
            .upsertSession(Self.v("s1 v2"), id: "s1"),
            .setting(key: "k", value: "1"), .setting(key: "k", value: "2"),
            .insertEvent(Self.v("e1"), cursor: 1), .insertEvent(Self.v("e2"), cursor: 2),
            .upsertReservation(Self.v("r v1"), projectId: "p", userId: "a"),
            .deleteReservation(projectId: "p", userId: "a"),
            .deleteReservation(projectId: "p", userId: "b"),
            .upsertReservation(Self.v("r b"), projectId: "p", userId: "b"),
        ])
        #expect(batch.sessions.map(\.1) == [Self.v("s1 v2"), Self.v("s2 v1")])
        #expect(batch.settings.map(\.1) == ["2"])
        #expect(batch.events == [Self.v("e1"), Self.v("e2")])
        #expect(Batch.deletions(batch.reservations).map(\.userId) == ["a"])
        #expect(Batch.upserts(batch.reservations) == [Self.v("r b")])
        #expect(batch.cascades.isEmpty)
    }

    @Test func aProjectsDeletionTakesTheReservationsWrittenBeforeItNotThoseAfter() {
        let batch = Batch([
            .upsertProject(Self.v("p v1"), id: "p"), .upsertReservation(Self.v("p a"), projectId: "p", userId: "a"),
            .upsertReservation(Self.v("q a"), projectId: "q", userId: "a"), .deleteProject(id: "p"),
            .upsertReservation(Self.v("p b"), projectId: "p", userId: "b"),
        ])
        #expect(batch.cascades == ["p"])
        #expect(Batch.deletions(batch.projects) == ["p"])
        #expect(Batch.upserts(batch.reservations) == [Self.v("q a"), Self.v("p b")])
        #expect(Batch.deletions(batch.reservations).map(\.userId) == ["a"])
    }

    @Test func aProjectDeletedThenMadeAgainIsWrittenAndItsOldReservationsGo() {
        let batch = Batch([.deleteProject(id: "p"), .upsertProject(Self.v("p v2"), id: "p")])
        #expect(batch.cascades == ["p"])
        #expect(Batch.upserts(batch.projects) == [Self.v("p v2")])
        #expect(Batch.deletions(batch.projects).isEmpty)
    }
}
