import Logging
import PostgresNIO
import TetherCore

extension PostgresStore {
    /// A row change with its column values.

    /// Writes the batches in one transaction, as ``SQLiteStore`` does: events appended, records upserted whole
    /// or deleted whole, and the highest event cursor kept in `settings` so that pruning never loses it.
    ///
    /// Event cursors are given here, at commit, not by the broker: several nodes may write events to one
    /// database (each the owner of some projects), so the one order of the cluster's events is taken from
    /// the row `tether_event_seq`, updated in the transaction after every other write and just before the
    /// events are inserted. Its row lock is held until the commit, so transactions that write events commit
    /// one after another in the order of their cursors: a reader that has seen cursor `n` never later finds a
    /// cursor below `n` committed (a sequence alone would let a cursor taken early commit late, and a reader
    /// skip it). The events of each batch keep their order and get consecutive cursors; the first one is
    /// returned per batch (``CommitTicket/firstCursor``). The changes are first reduced to what they leave
    /// behind (``RowBatch``) and each table is written with multi-row statements: one statement per row
    /// change cost a round trip each, which bounded the API to ~550 operations a second on PostgreSQL
    /// (docs/PERFORMANCE.md).
    ///
    /// With a `fence` (the node owns the cluster's lease), the transaction first reads the lease row `FOR SHARE`
    /// and writes nothing unless its fence is still `fence`: a node that lost the lease (paused, cut off) can
    /// never write over its successor's rows, and a takeover (which updates the row) waits for a write in
    /// flight to commit, so the successor loads it.
    ///
    /// With `projectFences` (the node owns some projects through per-project leases), the transaction also reads
    /// the leases of every project it changes `FOR SHARE` and writes nothing unless each is still held under the
    /// fence given (``checkProjectFences(_:held:_:_:)``).
    ///
    /// Returns the first cursor given to each batch's events (`nil` for a batch without events) and the
    /// highest cursor committed, if it wrote events.
    @discardableResult
    static func commit(
        _ writes: [StoreWrite], fence: Int64?, projectFences: [ProjectID: Int64]? = nil, client: PostgresClient,
        logger: Logger
    ) async throws -> (firstCursors: [UInt64?], last: Int64?) {
        let (changes, _) = try RowChange.changes(writes)
        guard !changes.isEmpty else { return (writes.map { _ in nil }, nil) }
        let touched = projectFences == nil ? [] : writes.reduce(into: Set<ProjectID>()) { $0.formUnion($1.projects) }
        let last: Int64?
        do {
            last = try await write(
                RowBatch(changes), fence: fence, projectFences: projectFences.map { ($0, touched) }, client: client,
                logger: logger)
        } catch {
            throw storeError(error) ?? error
        }
        guard let last else { return (writes.map { _ in nil }, nil) }
        let total = writes.reduce(0) { $0 + $1.eventCount }
        var next = UInt64(last) - UInt64(total) + 1
        var firstCursors: [UInt64?] = []
        for write in writes {
            let count = write.eventCount
            firstCursors.append(count > 0 ? next : nil)
            next += UInt64(count)
        }
        return (firstCursors, last)
    }

    /// Writes the batch; returns the last event cursor it gave, if it wrote events.
    private static func write(
        _ batch: RowBatch, fence: Int64?,
        projectFences: (held: [ProjectID: Int64], touched: Set<ProjectID>)?, client: PostgresClient, logger: Logger
    ) async throws -> Int64? {
        typealias Batch = RowBatch
        return try await client.withTransaction(logger: logger) { connection -> Int64? in
            if let fence { try await checkFence(fence, connection, logger) }
            if let projectFences {
                try await checkProjectFences(projectFences.touched, held: projectFences.held, connection, logger)
            }
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
            // Audit records in multi-row statements too (in order: their ids are given in the order of the rows).
            // One statement each cost a round trip per destroy under `tether bench cluster`.
            let auditColumns = AuditRow.insertColumns.count
            var start = 0
            while start < batch.audits.count {
                let chunk = batch.audits[start..<min(batch.audits.count, start + max(1, 30_000 / auditColumns))]
                var binds = PostgresBindings(capacity: chunk.count * auditColumns)
                for values in chunk { for value in values { binds.append(value) } }
                _ = try await connection.query(
                    PostgresQuery(unsafeSQL: AuditRow.insertSQL(rows: chunk.count) { "$\($0)" }, binds: binds),
                    logger: logger)
                start += chunk.count
            }
            for (key, value) in batch.settings {
                _ = try await connection.query(
                    """
                    INSERT INTO settings (key, value) VALUES (\(key), \(value))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """, logger: logger)
            }
            // Last: the cursors, under the row lock that orders the commits that write events.
            guard !batch.events.isEmpty else { return nil }
            let count = Int64(batch.events.count)
            var last: Int64?
            for try await value in try await connection.query(
                """
                UPDATE tether_event_seq SET last = GREATEST(last, COALESCE(
                    (SELECT value::bigint FROM settings WHERE key = \(cursorSettingKey)), 0)) + \(count)
                WHERE id = 1 RETURNING last
                """, logger: logger
            ).decode(Int64.self) {
                last = value
            }
            guard let last else { throw StoreError.corruptRecord("tether_event_seq has no row") }
            var events = batch.events
            for i in events.indices { events[i][EventRecord.cursorColumn] = .integer(last - count + 1 + Int64(i)) }
            try await insert(EventRecord.self, events, upsert: false, connection, logger)
            _ = try await connection.query(
                """
                INSERT INTO settings (key, value) VALUES (\(cursorSettingKey), \(String(last)))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                WHERE excluded.value::bigint > settings.value::bigint
                """, logger: logger)
            return last
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
