import GRDB
import TetherCore

/// The embedded ``Store``: one SQLite file in WAL mode, written by a group-commit writer.
///
/// Every field of a record is a column (the record types in `Records/`, the schema in `SQLiteStore+Schema.swift`).
/// Every durable effect handed to ``enqueue(_:)`` goes to a ``GroupCommitWriter`` that writes all pending
/// batches in one transaction; reads go to the pool's reader connections and see committed data only.
///
/// Durability: the pool runs in WAL mode with `PRAGMA synchronous = FULL` on the writer connection, so the
/// WAL is fsynced at every commit and a ticket completes only once its transaction is on stable storage. It
/// survives a `kill -9` of the process and also a power loss or kernel crash. (`NORMAL`, GRDB's default in
/// WAL mode, would survive a process kill, since committed frames are already handed to the OS, but not a
/// power loss, which could roll back acknowledged commits.) Group commit pays one fsync per transaction,
/// not per request. On macOS, `fsync` does not flush the drive's cache; `PRAGMA fullfsync` would be needed
/// there for the same guarantee.
public final class SQLiteStore: Store {
    /// The settings key under which the last event cursor is kept (reserved: do not set it yourself).
    static let cursorSettingKey = "cursor"

    /// The database file.
    public let path: String
    let pool: DatabasePool
    private let writer: GroupCommitWriter<Write>

    /// Opens (or creates) the database at `path` and migrates its schema.
    ///
    /// Waits up to 5 s for a lock held by another connection before failing with `SQLITE_BUSY`. `onCommit`
    /// hears about every transaction the group-commit writer runs (for metrics).
    public init(path: String, onCommit: GroupCommitWriter<Write>.Observer? = nil) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "TetherStore"
        let pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets `synchronous = NORMAL` on the writer when it enables WAL, after `prepareDatabase` ran,
        // so raise it here (the setting is per connection; only the writer commits).
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Self.refuseNewerSchema(pool)
        try Self.migrator.migrate(pool)
        self.path = path
        self.pool = pool
        // One writer (the file's lone server) commits the broker's own cursors.
        self.writer = GroupCommitWriter(observer: onCommit) { writes in
            try await SQLiteStore.commit(writes, to: pool)
            return writes.map(\.firstEventCursor)
        }
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool { writer.isClosed }

    /// The group-commit counters: transactions written and the batches they carried.
    public var stats: GroupCommitStats { writer.stats }

    /// Applies any migration not yet applied (``init(path:)`` already did), then reads what rebuilds the
    /// broker: every project, every session that is not ended, every reservation, and the last event cursor
    /// (the highest of the events table and the `cursor` setting). Lists are sorted as `Broker.snapshot`
    /// sorts them: projects and sessions by id, reservations by project and user.
    public func load() async throws -> BrokerSnapshot {
        try await migrate()
        let snapshot = try await pool.read { db in
            let projects = try ProjectRecord.fetchAll(db, sql: "SELECT \(ProjectRecord.selection) FROM projects")
            let sessions = try SessionRecord.fetchAll(
                db, sql: "SELECT \(SessionRecord.selection) FROM sessions WHERE state != 'ended' ORDER BY id")
            let reservations = try ReservationRecord.fetchAll(
                db, sql: "SELECT \(ReservationRecord.selection) FROM reservations")
            let tickets = try QueueTicketRecord.fetchAll(
                db, sql: "SELECT \(QueueTicketRecord.selection) FROM queue_tickets ORDER BY project_id, seq")
            let eventCursor = try Int64.fetchOne(db, sql: "SELECT MAX(cursor) FROM events") ?? 0
            let keptCursor = try String.fetchOne(
                db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [Self.cursorSettingKey])
            return BrokerSnapshot(
                projects: projects.map(\.project).sorted { $0.id < $1.id },
                sessions: Self.sortedByID(sessions.map(\.session)),
                reservations: reservations.map(\.reservation)
                    .sorted { ($0.projectId, $0.userId) < ($1.projectId, $1.userId) },
                tickets: tickets.map(\.ticket),
                cursor: UInt64(max(eventCursor, keptCursor.flatMap { Int64($0) } ?? 0, 0)))
        }
        return snapshot
    }

    /// Throws ``StoreError/schemaTooNew(found:known:)`` when the file holds a migration this binary does not know
    /// (a newer Tether migrated it): this one must not write to it.
    static func refuseNewerSchema(_ pool: DatabasePool) throws {
        let known = migrator.migrations
        let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
        if let unknown = applied.subtracting(known).sorted().last {
            throw StoreError.schemaTooNew(found: unknown, known: known.last ?? "none")
        }
    }

    /// Applies any migration not yet applied (``init(path:)`` already did).
    public func migrate() async throws {
        guard !writer.isClosed else { throw StoreError.closed }
        try Self.refuseNewerSchema(pool)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Self.migrator.asyncMigrate(pool) { result in continuation.resume(with: result.map { _ in () }) }
        }
    }

    /// Queues the durable effects of one command for the next transaction, in order (kicks and metrics are
    /// dropped). Returns at once: a ticket already completed when nothing is durable, otherwise the promise
    /// of the commit. After ``close()`` the ticket fails with ``StoreError/closed``.
    public func enqueue(_ effects: [Effect]) -> CommitTicket {
        let durable = effects.filter(\.isDurable)
        guard !durable.isEmpty else { return .completed() }
        return writer.enqueue(.effects(durable))
    }

    /// Sessions sorted by id; the query already returns them in SQLite's order, so usually this only checks.
    static func sortedByID(_ sessions: [Session]) -> [Session] {
        for i in sessions.indices.dropFirst() where !(sessions[i - 1].id < sessions[i].id) {
            return sessions.sorted { $0.id < $1.id }
        }
        return sessions
    }

    /// A session, live or ended, as last written.
    public func session(_ id: SessionID) async throws -> Session? {
        try await pool.read { db in
            try SessionRecord.fetchOne(
                db, sql: "SELECT \(SessionRecord.selection) FROM sessions WHERE id = ?", arguments: [id])
        }?.session
    }

    /// Up to `limit` sessions of a project, newest first (by creation time, then id, descending), optionally
    /// only those in `state` (`.ended` included).
    public func sessions(in projectId: ProjectID, state: SessionState?, limit: Int) async throws -> [Session] {
        guard limit > 0 else { return [] }
        let rows = try await pool.read { db in
            if let state {
                try SessionRecord.fetchAll(
                    db,
                    sql: """
                        SELECT \(SessionRecord.selection) FROM sessions WHERE project_id = ? AND state = ?
                        ORDER BY created_at DESC, id DESC LIMIT ?
                        """,
                    arguments: [projectId, state.rawValue, limit])
            } else {
                try SessionRecord.fetchAll(
                    db,
                    sql: """
                        SELECT \(SessionRecord.selection) FROM sessions WHERE project_id = ?
                        ORDER BY created_at DESC, id DESC LIMIT ?
                        """,
                    arguments: [projectId, limit])
            }
        }
        return rows.map(\.session)
    }

    /// Up to `limit` events with a cursor above `cursor`, in cursor order, optionally of one project only.
    public func events(after cursor: UInt64, projectId: ProjectID?, limit: Int) async throws -> [Event] {
        guard limit > 0 else { return [] }
        let after = Int64(clamping: cursor)
        let rows = try await pool.read { db in
            if let projectId {
                try EventRecord.fetchAll(
                    db,
                    sql: """
                        SELECT \(EventRecord.selection) FROM events WHERE cursor > ? AND project_id = ?
                        ORDER BY cursor LIMIT ?
                        """,
                    arguments: [after, projectId, limit])
            } else {
                try EventRecord.fetchAll(
                    db, sql: "SELECT \(EventRecord.selection) FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?",
                    arguments: [after, limit])
            }
        }
        return rows.map(\.event)
    }

    /// The audit records after `id`, oldest first.
    public func audit(after id: Int64, limit: Int) async throws -> [AuditRecord] {
        guard limit > 0 else { return [] }
        return try await pool.read { db in
            try AuditRow.fetchAll(
                db, sql: "SELECT \(AuditRow.selection) FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
                arguments: [id, limit])
        }.map(\.record)
    }

    /// A server setting, if set.
    public func setting(_ key: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
        }
    }

    /// Sets a server setting and returns once it is committed. It goes through the group-commit writer, after
    /// the batches already queued. The key `cursor` is reserved for the store.
    public func setSetting(_ key: String, _ value: String) async throws {
        try await writer.enqueue(.setting(key: key, value: value)).durable()
    }

    /// Refuses further writes, waits until every queued batch is written, then closes the database. Reads
    /// after this throw. Calling it again does nothing.
    public func close() async throws {
        await writer.close()
        try pool.close()
    }
}
