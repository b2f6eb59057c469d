import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import PostgresNIO
import TetherCore

/// The ``Store`` several nodes share: one PostgreSQL database, on postgres-nio's pooled `PostgresClient`.
///
/// The tables and their columns are the SQLite store's (`PostgresStore+Schema.swift`), and so are the
/// semantics: every durable effect handed to ``enqueue(_:)`` goes to a ``GroupCommitWriter`` that writes all
/// pending batches in one transaction (one commit, so one WAL flush, for many requests); reads see committed
/// data only. A ticket completes when PostgreSQL has acknowledged the `COMMIT`, so with the server's default
/// `synchronous_commit = on` everything acknowledged survives a crash of the node and of the database server.
///
/// ``open(_:logger:onCommit:)`` connects once before anything else, so that a database that cannot be reached
/// or refuses the credentials is one clear error at start (``StoreError/unreachable(_:)``), then migrates.
public final class PostgresStore: Store {
    /// The settings key under which the last event cursor is kept (reserved).
    static let cursorSettingKey = "cursor"
    /// The settings key of the highest pruned cursor (reserved).
    static let prunedThroughSettingKey = "eventsPrunedThrough"

    /// Where the store connects (no password in its description).
    public let url: PostgresURL
    let client: PostgresClient
    let logger: Logger
    private let running: Task<Void, Never>
    private let writer: GroupCommitWriter<StoreWrite>
    /// The connection that holds the single-node lock (``open(_:exclusive:logger:onCommit:)``), if taken.
    private let lockConnection: PostgresConnection?
    /// The cluster lease's fence every write transaction must find unchanged, once the node owns the lease
    /// (``fence(with:)``); nil: writes are not fenced (a lone server, the tools, the tests).
    let writeFence: NIOLockedValueBox<Int64?>
    /// The per-project leases this node holds, by project, that every write changing a project's rows must find
    /// unchanged (``fence(projects:)``); nil: writes are not fenced per project.
    let projectFences: NIOLockedValueBox<[ProjectID: Int64]?>

    private init(
        url: PostgresURL, lockConnection: PostgresConnection?, logger: Logger,
        onCommit: GroupCommitWriter<StoreWrite>.Observer?, eventLoopGroup: any EventLoopGroup
    ) throws {
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: try Self.clientTLS(url))
        configuration.options.maximumConnections = 8
        configuration.options.connectTimeout = .seconds(5)
        let client = PostgresClient(
            configuration: configuration, eventLoopGroup: eventLoopGroup, backgroundLogger: logger)
        self.url = url
        self.lockConnection = lockConnection
        self.client = client
        self.logger = logger
        // Detached: the pool is the store's, closed by ``close()`` or ``abandon()``. A task made inside a service
        // would inherit its graceful shutdown (PostgresClient.run() honours it) and stop the pool before the
        // broker's last commit, which would then wait for a connection for ever.
        self.running = Task.detached { await client.run() }
        let writeFence = NIOLockedValueBox<Int64?>(nil)
        self.writeFence = writeFence
        let projectFences = NIOLockedValueBox<[ProjectID: Int64]?>(nil)
        self.projectFences = projectFences
        // Other nodes' event readers hear of each commit with events (LISTEN/NOTIFY), after it.
        let notifier = EventNotifier(client: client, logger: logger)
        self.writer = GroupCommitWriter(observer: onCommit) { writes in
            let (firstCursors, last) = try await PostgresStore.commit(
                writes, fence: writeFence.withLockedValue { $0 },
                projectFences: projectFences.withLockedValue { $0 }, client: client, logger: logger)
            if let last { notifier.committed(through: last) }
            return firstCursors
        }
    }

    /// Connects to the database, migrates its schema, and returns the store.
    ///
    /// Throws ``StoreError/unreachable(_:)`` with the server's or the network's reason when no connection can be
    /// made, and ``StoreError/schemaTooNew(found:known:)`` when a newer Tether migrated the database.
    ///
    /// `exclusive` takes the database's single-server lock and keeps it while the store is open: a second
    /// exclusive open is refused with ``StoreError/inUse(_:)`` until the first is closed (or its process died).
    /// `nodeId` (a node of a cluster) takes that id's lock instead: a second live process with the same id is
    /// refused the same way. `eventLoopGroup` runs its connections (a node's keeper gives its store loops of
    /// its own, so that client traffic on the shared loops cannot delay its lease's renewals).
    public static func open(
        _ url: PostgresURL, exclusive: Bool = false, nodeId: String? = nil,
        logger: Logger = Logger(label: "tether.postgres"), onCommit: GroupCommitWriter<StoreWrite>.Observer? = nil,
        eventLoopGroup: any EventLoopGroup = PostgresClient.defaultEventLoopGroup
    ) async throws -> PostgresStore {
        let keepsLock = exclusive || nodeId != nil
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: eventLoopGroup.any(), configuration: try connectionConfiguration(url), id: 0, logger: logger)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.unreachable("\(url): \(describePostgresError(error))")
        }
        do {
            try await migrate(connection, logger: logger)
            if exclusive { try await takeNodeLock(connection, url: url, logger: logger) }
            if let nodeId { try await takeNodeIdLock(connection, nodeId: nodeId, logger: logger) }
        } catch {
            try? await connection.close()
            if let error = storeError(error) { throw error }
            throw StoreError.unreachable("\(url): migration failed: \(describePostgresError(error))")
        }
        if !keepsLock { try? await connection.close() }
        return try PostgresStore(
            url: url, lockConnection: keepsLock ? connection : nil, logger: logger, onCommit: onCommit,
            eventLoopGroup: eventLoopGroup)
    }

    /// The pool's TLS, as `sslmode` asks.
    private static func clientTLS(_ url: PostgresURL) throws -> PostgresClient.Configuration.TLS {
        switch url.sslMode {
        case .disable: return .disable
        case .prefer: return .prefer(unverifiedTLS)
        case .require: return .require(unverifiedTLS)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }

    /// The first connection's configuration, with the same TLS.
    private static func connectionConfiguration(_ url: PostgresURL) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch url.sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: unverifiedTLS))
        case .require: tls = .require(try NIOSSLContext(configuration: unverifiedTLS))
        case .verifyFull: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// TLS without certificate checks: what libpq's `prefer` and `require` do.
    private static var unverifiedTLS: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        return tls
    }

    /// The group-commit counters: transactions written and the batches they carried.
    public var stats: GroupCommitStats { writer.stats }

    /// Whether ``close()`` was called.
    var isClosed: Bool { writer.isClosed }

    /// Applies any migration not yet applied (``open(_:logger:onCommit:)`` already did).
    public func migrate() async throws {
        guard !isClosed else { throw StoreError.closed }
        do {
            try await client.withConnection { connection in try await Self.migrate(connection, logger: logger) }
        } catch {
            throw storeError(error) ?? error
        }
    }

    /// Reads what rebuilds the broker, as ``SQLiteStore/load()`` does, in one repeatable-read transaction so
    /// that the lists and the cursor are one moment's.
    public func load() async throws -> BrokerSnapshot {
        try await migrate()
        do {
            return try await readSnapshot()
        } catch {
            throw storeError(error) ?? error
        }
    }

    /// Reads a snapshot (of `projects` alone, or of every project) in one repeatable-read transaction.
    func readSnapshot(projects: [ProjectID]? = nil) async throws -> BrokerSnapshot {
        let logger = logger
        return try await client.withTransaction(logger: logger) { connection in
            _ = try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            return try await Self.snapshot(of: projects, connection, logger)
        }
    }

    /// The rows of `ids` (nil: every project), sorted as `Broker.snapshot` sorts them, and the last event cursor.
    private static func snapshot(of ids: [ProjectID]?, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> BrokerSnapshot
    {
        var binds = PostgresBindings()
        if let ids { binds.append(ids) }
        let onlyProjects = ids == nil ? "" : " WHERE id = ANY($1::text[])"
        let andOnly = ids == nil ? "" : " AND project_id = ANY($1::text[])"
        let whereOnly = ids == nil ? "" : " WHERE project_id = ANY($1::text[])"
        let projects = try await Self.records(
            ProjectRecord.self, "SELECT \(ProjectRecord.selection) FROM projects\(onlyProjects) ORDER BY id",
            binds: binds, connection, logger)
        let sessions = try await Self.records(
            SessionRecord.self,
            "SELECT \(SessionRecord.selection) FROM sessions WHERE state <> 'ended'\(andOnly) ORDER BY id",
            binds: binds, connection, logger)
        let reservations = try await Self.records(
            ReservationRecord.self,
            "SELECT \(ReservationRecord.selection) FROM reservations\(whereOnly) ORDER BY project_id, user_id",
            binds: binds, connection, logger)
        let tickets = try await Self.records(
            QueueTicketRecord.self,
            "SELECT \(QueueTicketRecord.selection) FROM queue_tickets\(whereOnly) ORDER BY project_id, seq",
            binds: binds, connection, logger)
        var eventCursor: Int64 = 0
        for try await value in try await connection.query("SELECT MAX(cursor) FROM events", logger: logger)
            .decode(Int64?.self)
        {
            eventCursor = value ?? 0
        }
        var keptCursor: Int64 = 0
        for try await value in try await connection.query(
            "SELECT value FROM settings WHERE key = \(Self.cursorSettingKey)", logger: logger
        ).decode(String.self) {
            keptCursor = Int64(value) ?? 0
        }
        return BrokerSnapshot(
            projects: projects.map(\.project).sorted { $0.id < $1.id },
            sessions: SQLiteStore.sortedByID(sessions.map(\.session)),
            reservations: reservations.map(\.reservation)
                .sorted { ($0.projectId, $0.userId) < ($1.projectId, $1.userId) },
            tickets: tickets.map(\.ticket), cursor: UInt64(max(eventCursor, keptCursor, 0)))
    }

    /// Runs a query and reads each row as a record.
    static func records<R: ColumnRecord>(
        _ type: R.Type, _ sql: String, binds: PostgresBindings = PostgresBindings(), _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws -> [R] {
        var records: [R] = []
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
            records.append(try R(columns: PostgresColumns(row)))
        }
        return records
    }

    /// Runs a query on a pooled connection and reads each row as a record.
    func records<R: ColumnRecord>(_ type: R.Type, _ sql: String, _ binds: PostgresBindings) async throws -> [R] {
        guard !isClosed else { throw StoreError.closed }
        let logger = logger
        return try await client.withConnection { connection in
            try await Self.records(type, sql, binds: binds, connection, logger)
        }
    }

    /// Queues the durable effects of one command for the next transaction, in order.
    public func enqueue(_ effects: [Effect]) -> CommitTicket {
        let durable = effects.filter(\.isDurable)
        guard !durable.isEmpty else { return .completed() }
        return writer.enqueue(.effects(durable))
    }

    /// A session, live or ended, as last written.
    public func session(_ id: SessionID) async throws -> Session? {
        var binds = PostgresBindings()
        binds.append(id)
        return try await records(
            SessionRecord.self, "SELECT \(SessionRecord.selection) FROM sessions WHERE id = $1", binds
        ).first?.session
    }

    /// Up to `limit` sessions of a project, newest first (by creation time, then id, descending), optionally
    /// only those in `state`.
    public func sessions(in projectId: ProjectID, state: SessionState?, limit: Int) async throws -> [Session] {
        guard limit > 0 else { return [] }
        var binds = PostgresBindings()
        binds.append(projectId)
        binds.append(Int64(limit))
        let filter: String
        if let state {
            binds.append(state.rawValue)
            filter = " AND state = $3"
        } else {
            filter = ""
        }
        return try await records(
            SessionRecord.self,
            """
            SELECT \(SessionRecord.selection) FROM sessions WHERE project_id = $1\(filter)
            ORDER BY created_at DESC, id DESC LIMIT $2
            """, binds
        ).map(\.session)
    }

    /// Up to `limit` events with a cursor above `cursor`, in cursor order, optionally of one project only.
    public func events(after cursor: UInt64, projectId: ProjectID?, limit: Int) async throws -> [Event] {
        guard limit > 0 else { return [] }
        var binds = PostgresBindings()
        binds.append(Int64(clamping: cursor))
        binds.append(Int64(limit))
        let filter: String
        if let projectId {
            binds.append(projectId)
            filter = " AND project_id = $3"
        } else {
            filter = ""
        }
        return try await records(
            EventRecord.self,
            "SELECT \(EventRecord.selection) FROM events WHERE cursor > $1\(filter) ORDER BY cursor LIMIT $2", binds
        ).map(\.event)
    }

    /// The audit records after `id`, oldest first.
    public func audit(after id: Int64, limit: Int) async throws -> [AuditRecord] {
        guard limit > 0 else { return [] }
        var binds = PostgresBindings()
        binds.append(id)
        binds.append(Int64(limit))
        return try await records(
            AuditRow.self, "SELECT \(AuditRow.selection) FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2", binds
        ).map(\.record)
    }

    /// A server setting, if set.
    public func setting(_ key: String) async throws -> String? {
        guard !isClosed else { throw StoreError.closed }
        let logger = logger
        return try await client.withConnection { connection in
            var value: String?
            for try await v in try await connection.query(
                "SELECT value FROM settings WHERE key = \(key)", logger: logger
            ).decode(String.self) {
                value = v
            }
            return value
        }
    }

    /// Sets a server setting and returns once it is committed, after the batches already queued.
    public func setSetting(_ key: String, _ value: String) async throws {
        try await writer.enqueue(.setting(key: key, value: value)).durable()
    }

    /// Gives up at once, for a node that lost the cluster's lease: the pool stops, so a transaction waiting for a
    /// connection to a database that is gone fails instead of waiting for ever, and nothing more is written.
    /// ``close()`` still has to be called.
    public func abandon() {
        running.cancel()
    }

    /// Refuses further writes, waits until every queued batch is written, then closes the pool.
    public func close() async throws {
        await writer.close()
        running.cancel()
        await running.value
        try? await lockConnection?.close()
    }
}
