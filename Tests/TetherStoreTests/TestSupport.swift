import Foundation
import GRDB
import Testing
import TetherCore
import TetherStore
import TetherTestKit

/// The stores the store suite runs against: every test that takes a `StoreKind` runs once per store.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// What the tests read from either store besides the protocol: the group-commit counters.
protocol TestedStore: Store {
    var stats: GroupCommitStats { get }
}

extension SQLiteStore: TestedStore {}
extension PostgresStore: TestedStore {}

/// A fresh, empty database of one kind that can be opened several times (to test a reopen) and is removed
/// at the end: a temporary SQLite file, or a database of its own on the PostgreSQL server that
/// `scripts/test.sh` starts (`TETHER_TEST_POSTGRES_URL`, a URL whose database the tests may create others
/// beside).
struct TestDatabase: Sendable {
    let kind: StoreKind
    /// The SQLite file, or the PostgreSQL database's URL.
    let location: String

    /// The PostgreSQL server of the tests (``TestPostgres``), as a store URL.
    static func postgresServer() throws -> PostgresURL {
        guard let text = ProcessInfo.processInfo.environment[TestPostgres.variable] else {
            _ = try TestPostgres.serverURL()  // throws the explanation
            throw StoreError.badLocation(TestPostgres.variable)
        }
        return try PostgresURL(text)
    }

    /// Makes the database.
    static func make(_ kind: StoreKind) async throws -> TestDatabase {
        switch kind {
        case .sqlite: TestDatabase(kind: kind, location: TempDatabase().path)
        case .postgres: TestDatabase(kind: kind, location: try await TestPostgres.createDatabase())
        }
    }

    /// Opens a store on the database.
    func open() async throws -> any TestedStore {
        switch kind {
        case .sqlite: try SQLiteStore(path: location)
        case .postgres: try await PostgresStore.open(try PostgresURL(location))
        }
    }

    /// Runs one statement on the database directly, behind the store's back.
    func execute(_ sql: String) async throws {
        switch kind {
        case .sqlite:
            let queue = try DatabaseQueue(path: location)
            try await queue.write { db in try db.execute(sql: sql) }
            try queue.close()
        case .postgres:
            try await TestPostgres.execute(sql, database: TestPostgres.databaseName(location))
        }
    }

    /// Removes the database.
    func remove() async {
        switch kind {
        case .sqlite: TempDatabase(path: location).remove()
        case .postgres: await TestPostgres.dropDatabase(location)
        }
    }
}

/// A database file in the temporary directory, removed (with its WAL and shared-memory files) by `remove()`.
struct TempDatabase {
    let path: String

    init() {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("tether-store-\(UUID().uuidString).sqlite").path
    }

    init(path: String) {
        self.path = path
    }

    func remove() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// Opens a store of `kind` on a fresh database, runs `body`, then closes the store and removes the database.
func withStore(_ kind: StoreKind, _ body: (any TestedStore, TestDatabase) async throws -> Void) async throws {
    let db = try await TestDatabase.make(kind)
    let store: any TestedStore
    do {
        store = try await db.open()
    } catch {
        await db.remove()
        throw error
    }
    do {
        try await body(store, db)
    } catch {
        try? await store.close()
        await db.remove()
        throw error
    }
    try await store.close()
    await db.remove()
}

/// Opens a SQLite store on a fresh file (tests of what only SQLite has: its file, its migrations from JSON).
func withStore(_ body: (SQLiteStore, TempDatabase) async throws -> Void) async throws {
    let db = TempDatabase()
    defer { db.remove() }
    let store = try SQLiteStore(path: db.path)
    do {
        try await body(store, db)
    } catch {
        try? await store.close()
        throw error
    }
    try await store.close()
}

/// A real broker driven by commands, with the effects of each command kept as one batch (as the shell
/// hands them to the store).
struct Script {
    var broker: Broker
    var now: Millis
    var batches: [[Effect]] = []

    init(now: Millis = 1_000) {
        self.now = now
        self.broker = Broker(now: now)
    }

    /// Runs a command at the current time and keeps its effects as one batch.
    @discardableResult
    mutating func run(_ command: Command) throws -> Reply {
        let ticked = broker.tick(at: now)
        let (reply, effects) = try broker.handle(command)
        batches.append(ticked + effects)
        return reply
    }

    /// Apply + CreateSession for a user, as two batches.
    mutating func open(_ projectId: ProjectID, user: UserID, session: SessionID) throws {
        try run(.apply(projectId, userId: user, userIp: "10.0.0.1"))
        try run(
            .createSession(
                projectId, userId: user, sessionId: session,
                metadata: SessionMetadata(userIp: "10.0.0.1", clientSession: "cs-\(user)", runMode: "normal")))
    }

    /// Every event emitted so far, in order.
    var events: [Event] {
        batches.joined().compactMap { effect in
            if case .event(let event) = effect { return event } else { return nil }
        }
    }

    /// Enqueues every batch not yet handed to the store, in order, and waits until all are durable.
    mutating func commit(to store: any Store) async throws {
        let tickets = batches.map { store.enqueue($0) }
        batches.removeAll()
        for ticket in tickets { try await ticket.durable() }
    }
}
