import GRDB
import TetherCore

extension SQLiteStore {
    /// What the group-commit writer of a ``SQLiteStore`` carries.
    public typealias Write = StoreWrite

    /// A row change with SQLite's bindings.

    /// The statements of the record upserts and the event insert, built once.
    private static let projectUpsert = ProjectRecord.upsertSQL
    private static let reservationUpsert = ReservationRecord.upsertSQL
    private static let sessionUpsert = SessionRecord.upsertSQL
    private static let ticketUpsert = QueueTicketRecord.upsertSQL
    private static let eventInsert = EventRecord.insertSQL
    private static let auditInsert = AuditRow.insertSQL { _ in "?" }

    /// Writes the batches in one transaction, in order. Events are appended (a cursor already written is an
    /// error that fails the transaction); everything else is an upsert of every column of a record
    /// (`ColumnRecord.upsertSQL`) or a deletion of a whole record. The
    /// highest event cursor is also kept in `settings`, so that pruning old events never loses it.
    static func commit(_ writes: [Write], to pool: DatabasePool) async throws {
        let (changes, cursor) = try RowChange.changes(writes)
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
        case .upsertProject(let values, _):
            try db.cachedStatement(sql: projectUpsert).execute(binding: values)
        case .deleteProject(let id):
            try db.cachedStatement(sql: "DELETE FROM projects WHERE id = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM reservations WHERE project_id = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM queue_tickets WHERE project_id = ?").execute(arguments: [id])
        case .upsertReservation(let values, _, _):
            try db.cachedStatement(sql: reservationUpsert).execute(binding: values)
        case .deleteReservation(let projectId, let userId):
            try db.cachedStatement(sql: "DELETE FROM reservations WHERE project_id = ? AND user_id = ?")
                .execute(arguments: [projectId, userId])
        case .upsertTicket(let values, _, _):
            try db.cachedStatement(sql: ticketUpsert).execute(binding: values)
        case .deleteTicket(let projectId, let userId):
            try db.cachedStatement(sql: "DELETE FROM queue_tickets WHERE project_id = ? AND user_id = ?")
                .execute(arguments: [projectId, userId])
        case .upsertSession(let values, _):
            try db.cachedStatement(sql: sessionUpsert).execute(binding: values)
        case .insertEvent(let values, _):
            try db.cachedStatement(sql: eventInsert).execute(binding: values)
        case .insertAudit(let values):
            try db.cachedStatement(sql: auditInsert).execute(binding: values)
        case .setting(let key, let value):
            try db.cachedStatement(
                sql:
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ).execute(arguments: [key, value])
        }
    }
}
