import Foundation
import TetherCore
import TetherStore

/// A database file in the temporary directory, removed (with its WAL and shared-memory files) by `remove()`.
struct TempDatabase {
    let path: String

    init() {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("tether-store-\(UUID().uuidString).sqlite").path
    }

    func remove() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// Opens a store on a fresh file, runs `body`, then closes the store and removes the file.
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
    mutating func commit(to store: SQLiteStore) async throws {
        let tickets = batches.map { store.enqueue($0) }
        batches.removeAll()
        for ticket in tickets { try await ticket.durable() }
    }
}
