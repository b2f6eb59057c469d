import Logging
import PostgresNIO
import TetherCore

extension PostgresStore {
    /// A row change with postgres-nio's bindings.
    typealias RowChange = TetherStore.RowChange<PostgresBindings>

    private static let projectUpsert = ProjectRecord.postgresUpsertSQL
    private static let reservationUpsert = ReservationRecord.postgresUpsertSQL
    private static let sessionUpsert = SessionRecord.postgresUpsertSQL
    private static let eventInsert = EventRecord.postgresInsertSQL

    /// Writes the batches in one transaction, in order, as ``SQLiteStore`` does: events appended (a cursor
    /// already written fails the transaction), records upserted whole or deleted whole, and the highest event
    /// cursor kept in `settings` so that pruning never loses it.
    ///
    /// With a `fence` (the node owns the cluster's lease), the transaction first reads the lease row `FOR SHARE`
    /// and writes nothing unless its fence is still `fence`: a node that lost the lease (paused, cut off) can
    /// never write over its successor's rows, and a takeover (which updates the row) waits for a write in
    /// flight to commit, so the successor loads it.
    static func commit(_ writes: [StoreWrite], fence: Int64?, client: PostgresClient, logger: Logger) async throws {
        let (changes, cursor) = try RowChange.changes(writes) { PostgresBindings(values: $0) }
        guard !changes.isEmpty else { return }
        do {
            try await write(changes, cursor: cursor, fence: fence, client: client, logger: logger)
        } catch {
            throw storeError(error) ?? error
        }
    }

    private static func write(
        _ changes: [RowChange], cursor: Int64?, fence: Int64?, client: PostgresClient, logger: Logger
    ) async throws {
        try await client.withTransaction(logger: logger) { connection in
            if let fence { try await checkFence(fence, connection, logger) }
            for change in changes { try await apply(change, connection, logger) }
            if let cursor {
                _ = try await connection.query(
                    """
                    INSERT INTO settings (key, value) VALUES (\(cursorSettingKey), \(String(cursor)))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    WHERE excluded.value::bigint > settings.value::bigint
                    """, logger: logger)
            }
        }
    }

    /// Runs the SQL of one row change.
    private static func apply(_ change: RowChange, _ connection: PostgresConnection, _ logger: Logger) async throws {
        switch change {
        case .upsertProject(let binds):
            _ = try await connection.query(PostgresQuery(unsafeSQL: projectUpsert, binds: binds), logger: logger)
        case .deleteProject(let id):
            _ = try await connection.query("DELETE FROM projects WHERE id = \(id)", logger: logger)
            _ = try await connection.query("DELETE FROM reservations WHERE project_id = \(id)", logger: logger)
        case .upsertReservation(let binds):
            _ = try await connection.query(PostgresQuery(unsafeSQL: reservationUpsert, binds: binds), logger: logger)
        case .deleteReservation(let projectId, let userId):
            _ = try await connection.query(
                "DELETE FROM reservations WHERE project_id = \(projectId) AND user_id = \(userId)", logger: logger)
        case .upsertSession(let binds):
            _ = try await connection.query(PostgresQuery(unsafeSQL: sessionUpsert, binds: binds), logger: logger)
        case .insertEvent(let binds, _):
            _ = try await connection.query(PostgresQuery(unsafeSQL: eventInsert, binds: binds), logger: logger)
        case .setting(let key, let value):
            _ = try await connection.query(
                """
                INSERT INTO settings (key, value) VALUES (\(key), \(value))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, logger: logger)
        }
    }
}
