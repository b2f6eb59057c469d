import Foundation
import Testing
import TetherCore
import TetherStore
import TetherTestKit

/// The schema's version, for both stores: a database a newer Tether migrated is refused with a clear error and
/// left as it is; nodes starting together on one PostgreSQL database migrate it once; a database that cannot
/// be reached is one clear error.
@Suite struct StoreSchemaTests {
    /// The table and column where each store records its applied migrations.
    static func migrationsInsert(_ kind: StoreKind, _ name: String) -> String {
        switch kind {
        case .sqlite: "INSERT INTO grdb_migrations (identifier) VALUES ('\(name)')"
        case .postgres: "INSERT INTO tether_migrations (name) VALUES ('\(name)')"
        }
    }

    @Test(arguments: StoreKind.allCases) func aSchemaNewerThanTheBinaryIsRefused(kind: StoreKind) async throws {
        let db = try await TestDatabase.make(kind)
        var script = Script()
        try script.run(.createProject(id: "p", name: "p", policy: Policy()))
        let store = try await db.open()
        try await script.commit(to: store)
        try await store.close()
        try await db.execute(Self.migrationsInsert(kind, "v99-from-the-future"))

        await #expect {
            _ = try await db.open()
        } throws: { error in
            guard case StoreError.schemaTooNew(let found, _) = error else { return false }
            return found == "v99-from-the-future" && "\(error)".contains("newer than this binary")
        }
        // Nothing was changed: with the marker gone, the data is there as written.
        try await db.execute(
            kind == .sqlite
                ? "DELETE FROM grdb_migrations WHERE identifier = 'v99-from-the-future'"
                : "DELETE FROM tether_migrations WHERE name = 'v99-from-the-future'")
        let reopened = try await db.open()
        #expect(try await reopened.load() == script.broker.snapshot)
        try await reopened.close()
        await db.remove()
    }

    /// Four nodes opening a fresh database at once: one migrates under the advisory lock, the others find it
    /// done; all four work.
    @Test func nodesStartingTogetherMigrateOnce() async throws {
        let db = try await TestDatabase.make(.postgres)
        let url = try PostgresURL(db.location)
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresStore.open(url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        try await stores[0].setSetting("k", "v")
        for store in stores { #expect(try await store.setting("k") == "v") }
        for store in stores { try await store.close() }
        await db.remove()
    }

    /// One server per database until the cluster exists: a second exclusive open is refused while the first
    /// holds the database, and works once it has closed.
    @Test func aSecondServerOnTheSameDatabaseIsRefused() async throws {
        let db = try await TestDatabase.make(.postgres)
        let url = try PostgresURL(db.location)
        let first = try await PostgresStore.open(url, exclusive: true)
        await #expect {
            let refused = try await PostgresStore.open(url, exclusive: true)
            try await refused.close()
        } throws: { error in
            guard case StoreError.inUse(let why) = error else { return false }
            return why.contains("another Tether server")
        }
        try await first.close()
        // PostgreSQL frees the lock when the first's backend has gone, a moment after its connection closed.
        var second: PostgresStore?
        _ = await eventually(within: .seconds(10)) {
            second = try? await PostgresStore.open(url, exclusive: true)
            return second != nil
        }
        #expect(second != nil)
        try await second?.close()
        await db.remove()
    }

    @Test func anUnreachableDatabaseIsOneClearError() async throws {
        let server = try TestDatabase.postgresServer()
        // Nothing listens on port 1 of 127.0.0.1 here.
        await #expect {
            _ = try await PostgresStore.open(try PostgresURL("postgres://tether@127.0.0.1:1/nowhere?sslmode=disable"))
        } throws: { error in
            guard case StoreError.unreachable(let why) = error else { return false }
            return why.contains("127.0.0.1:1") && !why.contains("\n")
        }
        // The server is there, the database is not: the server's reason is in the message.
        var missing = server
        missing.database = "no_such_database_\(UInt32.random(in: 0...UInt32.max))"
        let missingURL = missing
        await #expect {
            _ = try await PostgresStore.open(missingURL)
        } throws: { error in
            guard case StoreError.unreachable(let why) = error else { return false }
            return why.contains("does not exist")
        }
    }

    /// What no record can be read from is `StoreError.corruptRecord` in PostgreSQL too.
    @Test func aCorruptRowInPostgresIsCorruptRecord() async throws {
        try await withStore(.postgres) { store, db in
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy()))
            try script.open("p", user: "u", session: "s")
            try await script.commit(to: store)
            try await db.execute("UPDATE sessions SET state = 'nope'")
            await #expect(throws: StoreError.corruptRecord("SessionState: unknown value nope")) {
                try await store.session("s")
            }
            try await db.execute("UPDATE sessions SET state = 'created', epoch = -1")
            await #expect(throws: StoreError.corruptRecord("negative counter -1")) { try await store.session("s") }
        }
    }
}
