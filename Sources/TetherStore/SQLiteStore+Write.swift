import GRDB
import TetherCore

extension SQLiteStore {
    /// What the group-commit writer of a ``SQLiteStore`` carries: a command's durable effects or a setting.
    public enum Write: Sendable {
        /// The durable effects of one command, in the broker's order.
        case effects([Effect])
        /// A server setting.
        case setting(key: String, value: String)
    }

    /// One row change of a transaction, its values bound before the transaction starts so that the writer
    /// connection is held only for SQL.
    enum RowChange: Sendable {
        case upsertProject(StatementArguments)
        case deleteProject(id: ProjectID)
        case upsertReservation(StatementArguments)
        case deleteReservation(projectId: ProjectID, userId: UserID)
        case upsertSession(StatementArguments)
        case insertEvent(StatementArguments, cursor: Int64)
        case setting(key: String, value: String)
    }

    /// The statements of the record upserts and the event insert, built once.
    private static let projectUpsert = ProjectRecord.upsertSQL
    private static let reservationUpsert = ReservationRecord.upsertSQL
    private static let sessionUpsert = SessionRecord.upsertSQL
    private static let eventInsert = EventRecord.insertSQL

    /// The row changes of a transaction, in order; `cursor` is the highest event cursor among them.
    static func rowChanges(_ writes: [Write]) throws -> (changes: [RowChange], cursor: Int64?) {
        var changes: [RowChange] = []
        var cursor: Int64?
        for write in writes {
            switch write {
            case .setting(let key, let value):
                changes.append(.setting(key: key, value: value))
            case .effects(let effects):
                for effect in effects {
                    guard let change = try rowChange(effect) else { continue }
                    if case .insertEvent(_, let c) = change { cursor = max(cursor ?? c, c) }
                    changes.append(change)
                }
            }
        }
        return (changes, cursor)
    }

    /// The row change of one effect; `nil` for effects that are not durable.
    static func rowChange(_ effect: Effect) throws -> RowChange? {
        switch effect {
        case .saveProject(let p):
            return .upsertProject(try ProjectRecord(p).arguments())
        case .deleteProject(let id):
            return .deleteProject(id: id)
        case .saveReservation(let r):
            return .upsertReservation(try ReservationRecord(r).arguments())
        case .deleteReservation(let projectId, let userId):
            return .deleteReservation(projectId: projectId, userId: userId)
        case .saveSession(let s):
            return .upsertSession(try SessionRecord(s).arguments())
        case .event(let e):
            guard let cursor = Int64(exactly: e.cursor) else { throw StoreError.outOfRange("event cursor \(e.cursor)") }
            return .insertEvent(try EventRecord(e).arguments(), cursor: cursor)
        case .kick, .deadlineExpired, .deadlinesShifted, .sessionEnded:
            return nil
        }
    }

    /// Writes the batches in one transaction, in order. Events are appended (a cursor already written is an
    /// error that fails the transaction); everything else is an upsert of every column of a record
    /// (`ColumnRecord.upsertSQL`) or a deletion of a whole record. The
    /// highest event cursor is also kept in `settings`, so that pruning old events never loses it.
    static func commit(_ writes: [Write], to pool: DatabasePool) async throws {
        let (changes, cursor) = try rowChanges(writes)
        guard !changes.isEmpty else { return }
        try await pool.write { db in
            for change in changes { try apply(change, db) }
            if let cursor {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO settings (key, value) VALUES (?, ?)
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value
                        WHERE CAST(excluded.value AS INTEGER) > CAST(settings.value AS INTEGER)
                        """
                ).execute(arguments: [cursorSettingKey, String(cursor)])
            }
        }
    }

    /// Runs the SQL of one row change.
    private static func apply(_ change: RowChange, _ db: Database) throws {
        switch change {
        case .upsertProject(let arguments):
            try db.cachedStatement(sql: projectUpsert).execute(arguments: arguments)
        case .deleteProject(let id):
            try db.cachedStatement(sql: "DELETE FROM projects WHERE id = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM reservations WHERE project_id = ?").execute(arguments: [id])
        case .upsertReservation(let arguments):
            try db.cachedStatement(sql: reservationUpsert).execute(arguments: arguments)
        case .deleteReservation(let projectId, let userId):
            try db.cachedStatement(sql: "DELETE FROM reservations WHERE project_id = ? AND user_id = ?")
                .execute(arguments: [projectId, userId])
        case .upsertSession(let arguments):
            try db.cachedStatement(sql: sessionUpsert).execute(arguments: arguments)
        case .insertEvent(let arguments, _):
            try db.cachedStatement(sql: eventInsert).execute(arguments: arguments)
        case .setting(let key, let value):
            try db.cachedStatement(
                sql:
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ).execute(arguments: [key, value])
        }
    }
}
