import GRDB
import Logging
import PostgresNIO
import TetherCore

/// `tether store copy sqlite:PATH postgres://…`: an embedded deployment moved into PostgreSQL whole. Every row
/// of every table is written as it is (the records' own columns, through the same upserts the stores use):
/// projects, sessions live and ended with their epochs, deadlines and resume-token hashes, reservations, the
/// waiting queues' tickets with their order and offers, the
/// event log with its cursors, the audit trail with its ids, and the settings (API key hashes, the client-token secret, webhook cursors, the
/// last event cursor). So a node started on the database afterwards restores exactly what the embedded server
/// had, and event readers and webhooks resume from the cursors they had.
public enum StoreCopy {
    /// What was copied.
    public struct Counts: Sendable, Hashable, CustomStringConvertible {
        public var projects = 0
        public var sessions = 0
        public var reservations = 0
        public var tickets = 0
        public var events = 0
        public var settings = 0
        public var audit = 0

        public var description: String {
            "\(projects) projects, \(sessions) sessions, \(reservations) reservations, \(tickets) queue tickets, \(events) events, \(settings) settings, \(audit) audit records"
        }
    }

    /// Rows read from the source at a time (sessions and events).
    static let page = 1_000

    /// Copies `source` into `destination`, in one PostgreSQL transaction (all or nothing). The destination must
    /// hold no project, session, reservation or event: a copy never merges two deployments
    /// (``StoreError/inUse(_:)`` names the table). Stop the embedded server first: the source is read table by
    /// table, not as one snapshot.
    public static func copy(from source: SQLiteStore, to destination: PostgresStore) async throws -> Counts {
        let pool = source.pool
        let logger = destination.logger
        do {
            return try await destination.client.withTransaction(logger: logger) { connection in
                for table in ["projects", "sessions", "reservations", "queue_tickets", "events"] {
                    for try await exists in try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table))"), logger: logger
                    ).decode(Bool.self) where exists {
                        throw StoreError.inUse(
                            "\(destination.url): the table \(table) is not empty: copy into a database no Tether has used"
                        )
                    }
                }
                var counts = Counts()
                let projects = try await pool.read { db in
                    try ProjectRecord.fetchAll(db, sql: "SELECT \(ProjectRecord.selection) FROM projects ORDER BY id")
                }
                try await write(projects, ProjectRecord.postgresUpsertSQL, connection, logger)
                counts.projects = projects.count
                let reservations = try await pool.read { db in
                    try ReservationRecord.fetchAll(
                        db,
                        sql: "SELECT \(ReservationRecord.selection) FROM reservations ORDER BY project_id, user_id")
                }
                try await write(reservations, ReservationRecord.postgresUpsertSQL, connection, logger)
                counts.reservations = reservations.count
                let tickets = try await pool.read { db in
                    try QueueTicketRecord.fetchAll(
                        db, sql: "SELECT \(QueueTicketRecord.selection) FROM queue_tickets ORDER BY project_id, seq")
                }
                try await write(tickets, QueueTicketRecord.postgresUpsertSQL, connection, logger)
                counts.tickets = tickets.count
                var lastSession = ""
                while true {
                    let after = lastSession
                    let sessions = try await pool.read { db in
                        try SessionRecord.fetchAll(
                            db,
                            sql:
                                "SELECT \(SessionRecord.selection) FROM sessions WHERE id > ? ORDER BY id LIMIT \(page)",
                            arguments: [after])
                    }
                    guard let last = sessions.last else { break }
                    try await write(sessions, SessionRecord.postgresUpsertSQL, connection, logger)
                    counts.sessions += sessions.count
                    lastSession = last.session.id
                }
                var lastCursor: Int64 = -1
                while true {
                    let after = lastCursor
                    let events = try await pool.read { db in
                        try EventRecord.fetchAll(
                            db,
                            sql:
                                "SELECT \(EventRecord.selection) FROM events WHERE cursor > ? ORDER BY cursor LIMIT \(page)",
                            arguments: [after])
                    }
                    guard let last = events.last else { break }
                    try await write(events, EventRecord.postgresInsertSQL, connection, logger)
                    counts.events += events.count
                    lastCursor = Int64(clamping: last.event.cursor)
                }
                var lastAudit: Int64 = 0
                while true {
                    let after = lastAudit
                    let rows = try await pool.read { db in
                        try AuditRow.fetchAll(
                            db,
                            sql: "SELECT \(AuditRow.selection) FROM audit_log WHERE id > ? ORDER BY id LIMIT \(page)",
                            arguments: [after])
                    }
                    guard let last = rows.last else { break }
                    let insert =
                        "INSERT INTO audit_log (\(AuditRow.selection)) OVERRIDING SYSTEM VALUE VALUES ("
                        + (1...AuditRow.columns.count).map { "$\($0)" }.joined(separator: ", ") + ")"
                    for row in rows {
                        var binds = PostgresBindings()
                        for value in try row.columnValues() { binds.append(value) }
                        _ = try await connection.query(PostgresQuery(unsafeSQL: insert, binds: binds), logger: logger)
                    }
                    counts.audit += rows.count
                    lastAudit = last.record.id
                }
                if counts.audit > 0 {
                    // The next record PostgreSQL numbers comes after the copied ones.
                    _ = try await connection.query(
                        "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), \(lastAudit))", logger: logger)
                }
                let settings = try await pool.read { db in
                    try Row.fetchAll(db, sql: "SELECT key, value FROM settings ORDER BY key").map {
                        (key: $0["key"] as String, value: $0["value"] as String)
                    }
                }
                for (key, value) in settings {
                    _ = try await connection.query(
                        """
                        INSERT INTO settings (key, value) VALUES (\(key), \(value))
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value
                        """, logger: logger)
                }
                counts.settings = settings.count
                // The cluster's event cursors continue after the copied ones (`tether_event_seq`).
                _ = try await connection.query(
                    """
                    UPDATE tether_event_seq SET last = GREATEST(last, \(lastCursor), \
                    COALESCE((SELECT value::bigint FROM settings WHERE key = \(PostgresStore.cursorSettingKey)), 0))
                    """, logger: logger)
                return counts
            }
        } catch {
            throw storeError(error) ?? error
        }
    }

    private static func write<R: ColumnRecord>(
        _ records: [R], _ sql: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        for record in records {
            _ = try await connection.query(
                PostgresQuery(unsafeSQL: sql, binds: PostgresBindings(values: record.columnValues())), logger: logger)
        }
    }
}
