import Foundation
import Testing
import TetherCore
import TetherStore

/// `tether store copy`: an embedded store moved into PostgreSQL whole (records, ended sessions, reservations, queue tickets,
/// the event log with its cursors, settings), all or nothing, never into a database already in use.
@Suite struct StoreCopyTests {
    @Test func anEmbeddedStoreMovesIntoPostgresWhole() async throws {
        let sqliteDB = try await TestDatabase.make(.sqlite)
        let postgresDB = try await TestDatabase.make(.postgres)
        let source = try SQLiteStore(path: sqliteDB.location)
        let destination = try await PostgresStore.open(try PostgresURL(postgresDB.location))
        var script = Script()
        try script.run(.createProject(id: "p", name: "p", policy: Policy()))
        try script.open("p", user: "u", session: "s")
        try script.open("p", user: "v", session: "t")
        try script.run(.destroySession("t"))
        try script.run(.apply("p", userId: "w", userIp: nil))
        // A full pool with two users waiting in its queue, one of them with higher priority.
        try script.run(
            .createProject(id: "q", name: "q", policy: Policy(capacity: 1, queue: QueuePolicy(enabled: true))))
        try script.open("q", user: "holder", session: "h")
        try script.run(.applyQueued("q", userId: "x", userIp: nil, priority: 0, ticketId: "qt-x"))
        try script.run(.applyQueued("q", userId: "y", userIp: "10.0.0.2", priority: 3, ticketId: "qt-y"))
        let eventCount = script.events.count
        try await script.commit(to: source)
        try await source.setSetting("apiKeyHashes", #"["abc"]"#)

        let counts = try await StoreCopy.copy(from: source, to: destination)
        #expect(counts.projects == 2 && counts.sessions == 3 && counts.reservations == 1 && counts.tickets == 2)
        #expect(counts.events == eventCount && eventCount > 0)
        #expect(try await destination.load() == (try await source.load()))
        #expect(try await destination.load().tickets.map(\.userId) == ["x", "y"])
        let sourceEvents = try await source.events(after: 0, projectId: nil, limit: 1_000)
        #expect(try await destination.events(after: 0, projectId: nil, limit: 1_000) == sourceEvents)
        // An ended session (not part of what a restart loads) came too.
        let ended = try #require(try await source.session("t"))
        #expect(ended.state == .ended)
        #expect(try await destination.session("t") == ended)
        #expect(try await destination.setting("apiKeyHashes") == #"["abc"]"#)

        // A second copy into the same database is refused and changes nothing.
        await #expect {
            try await StoreCopy.copy(from: source, to: destination)
        } throws: { error in
            guard case StoreError.inUse(let why) = error else { return false }
            return why.contains("projects") && why.contains("not empty")
        }
        #expect(try await destination.events(after: 0, projectId: nil, limit: 1_000) == sourceEvents)
        try await source.close()
        try await destination.close()
        await sqliteDB.remove()
        await postgresDB.remove()
    }
}
