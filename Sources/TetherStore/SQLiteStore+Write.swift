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

    /// One row change, encoded before the transaction starts so that the writer connection is held only
    /// for SQL.
    enum RowChange: Sendable {
        case upsertProject(id: ProjectID, json: String)
        case deleteProject(id: ProjectID)
        case upsertReservation(projectId: ProjectID, userId: UserID, json: String)
        case deleteReservation(projectId: ProjectID, userId: UserID)
        case upsertSession(
            id: SessionID, projectId: ProjectID, userId: UserID, state: String, createdAt: Int64, updatedAt: Int64,
            json: String)
        case insertEvent(cursor: Int64, projectId: ProjectID, sessionId: SessionID?, at: Int64, json: String)
        case setting(key: String, value: String)
    }

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
                    if case .insertEvent(let c, _, _, _, _) = change { cursor = max(cursor ?? c, c) }
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
            return .upsertProject(id: p.id, json: try RecordCoding.encode(p))
        case .deleteProject(let id):
            return .deleteProject(id: id)
        case .saveReservation(let r):
            return .upsertReservation(projectId: r.projectId, userId: r.userId, json: RecordCoding.encode(r))
        case .deleteReservation(let projectId, let userId):
            return .deleteReservation(projectId: projectId, userId: userId)
        case .saveSession(let s):
            return .upsertSession(
                id: s.id, projectId: s.projectId, userId: s.userId, state: s.state.rawValue, createdAt: s.createdAt,
                updatedAt: s.updatedAt, json: RecordCoding.encode(s))
        case .event(let e):
            guard let cursor = Int64(exactly: e.cursor) else { throw StoreError.outOfRange("event cursor \(e.cursor)") }
            return .insertEvent(
                cursor: cursor, projectId: e.projectId, sessionId: e.sessionId, at: e.at,
                json: RecordCoding.encode(e))
        case .kick, .deadlineExpired, .deadlinesShifted, .sessionEnded:
            return nil
        }
    }

    /// Writes the batches in one transaction, in order. Events are appended (a cursor already written is an
    /// error that fails the transaction); everything else is an upsert or a deletion of a whole record. The
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
        case .upsertProject(let id, let json):
            try db.cachedStatement(
                sql: "INSERT INTO projects (id, json) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json"
            ).execute(arguments: [id, json])
        case .deleteProject(let id):
            try db.cachedStatement(sql: "DELETE FROM projects WHERE id = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM reservations WHERE project_id = ?").execute(arguments: [id])
        case .upsertReservation(let projectId, let userId, let json):
            try db.cachedStatement(
                sql: """
                    INSERT INTO reservations (project_id, user_id, json) VALUES (?, ?, ?)
                    ON CONFLICT (project_id, user_id) DO UPDATE SET json = excluded.json
                    """
            ).execute(arguments: [projectId, userId, json])
        case .deleteReservation(let projectId, let userId):
            try db.cachedStatement(sql: "DELETE FROM reservations WHERE project_id = ? AND user_id = ?")
                .execute(arguments: [projectId, userId])
        case .upsertSession(let id, let projectId, let userId, let state, let createdAt, let updatedAt, let json):
            try db.cachedStatement(
                sql: """
                    INSERT INTO sessions (id, project_id, user_id, state, created_at, updated_at, json)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        project_id = excluded.project_id, user_id = excluded.user_id, state = excluded.state,
                        created_at = excluded.created_at, updated_at = excluded.updated_at, json = excluded.json
                    """
            ).execute(arguments: [id, projectId, userId, state, createdAt, updatedAt, json])
        case .insertEvent(let cursor, let projectId, let sessionId, let at, let json):
            try db.cachedStatement(
                sql: "INSERT INTO events (cursor, project_id, session_id, at, json) VALUES (?, ?, ?, ?, ?)"
            ).execute(arguments: [cursor, projectId, sessionId, at, json])
        case .setting(let key, let value):
            try db.cachedStatement(
                sql:
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ).execute(arguments: [key, value])
        }
    }
}
