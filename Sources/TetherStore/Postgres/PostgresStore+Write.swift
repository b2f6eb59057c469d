import Logging
import PostgresNIO
import TetherCore

extension PostgresStore {
    /// A row change with its column values.
    typealias RowChange = TetherStore.RowChange<[ColumnValue]>

    /// Writes the batches in one transaction, as ``SQLiteStore`` does: events appended (a cursor already
    /// written fails the transaction), records upserted whole or deleted whole, and the highest event cursor
    /// kept in `settings` so that pruning never loses it. The changes are first reduced to what they leave
    /// behind (``RowBatch``) and each table is written with multi-row statements: one statement per row
    /// change cost a round trip each, which bounded the API to ~550 operations a second on PostgreSQL
    /// (docs/PERFORMANCE.md).
    ///
    /// With a `fence` (the node owns the cluster's lease), the transaction first reads the lease row `FOR SHARE`
    /// and writes nothing unless its fence is still `fence`: a node that lost the lease (paused, cut off) can
    /// never write over its successor's rows, and a takeover (which updates the row) waits for a write in
    /// flight to commit, so the successor loads it.
    ///
    /// Returns the highest event cursor it committed, if it wrote events.
    @discardableResult
    static func commit(_ writes: [StoreWrite], fence: Int64?, client: PostgresClient, logger: Logger) async throws
        -> Int64?
    {
        let (changes, cursor) = try RowChange.changes(writes) { $0 }
        guard !changes.isEmpty else { return nil }
        do {
            try await write(RowBatch(changes), cursor: cursor, fence: fence, client: client, logger: logger)
        } catch {
            throw storeError(error) ?? error
        }
        return cursor
    }

    private static func write(
        _ batch: RowBatch<[ColumnValue]>, cursor: Int64?, fence: Int64?, client: PostgresClient, logger: Logger
    ) async throws {
        typealias Batch = RowBatch<[ColumnValue]>
        try await client.withTransaction(logger: logger) { connection in
            if let fence { try await checkFence(fence, connection, logger) }
            if !batch.cascades.isEmpty {
                _ = try await connection.query(
                    "DELETE FROM reservations WHERE project_id = ANY(\(batch.cascades))", logger: logger)
                _ = try await connection.query(
                    "DELETE FROM queue_tickets WHERE project_id = ANY(\(batch.cascades))", logger: logger)
            }
            let deletedProjects = Batch.deletions(batch.projects)
            if !deletedProjects.isEmpty {
                _ = try await connection.query(
                    "DELETE FROM projects WHERE id = ANY(\(deletedProjects))", logger: logger)
            }
            let deletedReservations = Batch.deletions(batch.reservations)
            if !deletedReservations.isEmpty {
                _ = try await connection.query(
                    """
                    DELETE FROM reservations WHERE (project_id, user_id) IN
                    (SELECT * FROM UNNEST(\(deletedReservations.map(\.projectId))::text[], \
                    \(deletedReservations.map(\.userId))::text[]))
                    """, logger: logger)
            }
            let deletedTickets = Batch.deletions(batch.tickets)
            if !deletedTickets.isEmpty {
                _ = try await connection.query(
                    """
                    DELETE FROM queue_tickets WHERE (project_id, user_id) IN
                    (SELECT * FROM UNNEST(\(deletedTickets.map(\.projectId))::text[], \
                    \(deletedTickets.map(\.userId))::text[]))
                    """, logger: logger)
            }
            try await insert(ProjectRecord.self, Batch.upserts(batch.projects), connection, logger)
            try await insert(ReservationRecord.self, Batch.upserts(batch.reservations), connection, logger)
            try await insert(QueueTicketRecord.self, Batch.upserts(batch.tickets), connection, logger)
            try await insert(SessionRecord.self, batch.sessions.map(\.1), connection, logger)
            try await insert(EventRecord.self, batch.events, upsert: false, connection, logger)
            for values in batch.audits {
                var binds = PostgresBindings(capacity: values.count)
                for value in values { binds.append(value) }
                _ = try await connection.query(
                    PostgresQuery(unsafeSQL: AuditRow.insertSQL { "$\($0)" }, binds: binds), logger: logger)
            }
            for (key, value) in batch.settings {
                _ = try await connection.query(
                    """
                    INSERT INTO settings (key, value) VALUES (\(key), \(value))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """, logger: logger)
            }
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

    /// Inserts (or upserts) `rows` of `R`, as many to a statement as its parameters allow.
    private static func insert<R: ColumnRecord>(
        _ type: R.Type, _ rows: [[ColumnValue]], upsert: Bool = true, _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        let perStatement = max(1, 30_000 / R.columns.count)
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + perStatement)]
            let sql =
                upsert ? R.upsertSQL(rows: chunk.count) { "$\($0)" } : R.insertSQL(rows: chunk.count) { "$\($0)" }
            var binds = PostgresBindings(capacity: chunk.count * R.columns.count)
            for row in chunk { for value in row { binds.append(value) } }
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            start += chunk.count
        }
    }
}
