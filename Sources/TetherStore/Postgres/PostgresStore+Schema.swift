import Logging
import PostgresNIO

extension PostgresStore {
    /// The schema's migrations, in order; the database records the ones applied in `tether_migrations`.
    ///
    /// The tables have the SQLite store's columns (its v3, "records as columns"): `bigint` for integers, `boolean`
    /// for flags, `text` for everything else, the two JSON columns included (`history`, `parameters`: they come
    /// back byte for byte, and nothing queries inside them). Key and sort columns are `COLLATE "C"`, so ids sort
    /// by their bytes, as in SQLite and in Swift, whatever the database's locale.
    static let migrations: [(name: String, sql: String)] = [
        (
            "v1-columns",
            """
            CREATE TABLE projects (
                id text COLLATE "C" PRIMARY KEY,
                name text NOT NULL,
                capacity bigint NOT NULL,
                heartbeat_interval_ms bigint NOT NULL,
                heartbeat_timeout_ms bigint NOT NULL,
                reconnect_grace_ms bigint NOT NULL,
                reservation_ttl_ms bigint NOT NULL,
                connect_timeout_ms bigint NOT NULL,
                max_suspend_ms bigint NOT NULL,
                webhook_url text,
                webhook_secret text,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL
            );
            CREATE TABLE sessions (
                id text COLLATE "C" PRIMARY KEY,
                project_id text COLLATE "C" NOT NULL,
                user_id text NOT NULL,
                concurrency_id text NOT NULL,
                epoch bigint NOT NULL,
                state text NOT NULL,
                end_reason text,
                last_cause text,
                deadline_at bigint,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                ended_at bigint,
                last_heartbeat_at bigint,
                connection bigint,
                transport text,
                ever_connected boolean NOT NULL,
                resume_token_hash text,
                previous_resume_token_hash text,
                previous_resume_token_until bigint,
                seq bigint NOT NULL,
                user_ip text,
                client_session text,
                run_mode text,
                parameters text,
                history text NOT NULL
            );
            CREATE INDEX sessions_project_state ON sessions (project_id, state, created_at, id);
            CREATE INDEX sessions_project_created ON sessions (project_id, created_at, id);
            CREATE INDEX sessions_live ON sessions (id) WHERE state <> 'ended';
            CREATE TABLE reservations (
                project_id text COLLATE "C" NOT NULL,
                user_id text COLLATE "C" NOT NULL,
                concurrency_id text NOT NULL,
                reserved_until bigint NOT NULL,
                user_ip text,
                PRIMARY KEY (project_id, user_id)
            );
            CREATE TABLE events (
                cursor bigint PRIMARY KEY,
                at bigint NOT NULL,
                type text NOT NULL,
                project_id text COLLATE "C" NOT NULL,
                session_id text,
                user_id text NOT NULL,
                concurrency_id text NOT NULL,
                epoch bigint,
                session_seq bigint,
                cause text,
                reason text,
                deadline_at bigint,
                reused boolean,
                transport text,
                suspend_reason text,
                retired boolean,
                from_state text
            );
            CREATE INDEX events_project_cursor ON events (project_id, cursor);
            CREATE TABLE settings (
                key text COLLATE "C" PRIMARY KEY,
                value text NOT NULL
            );
            """
        ),
        (
            "v2-cluster",
            """
            CREATE TABLE tether_nodes (
                node_id text COLLATE "C" PRIMARY KEY,
                incarnation text NOT NULL,
                public_host text NOT NULL,
                api_port bigint NOT NULL,
                client_port bigint NOT NULL,
                tcp_port bigint NOT NULL,
                started_at bigint NOT NULL,
                last_seen_at bigint NOT NULL,
                connections bigint NOT NULL
            );
            CREATE TABLE tether_lease (
                scope text COLLATE "C" PRIMARY KEY,
                owner text,
                incarnation text,
                fence bigint NOT NULL,
                expires_at bigint NOT NULL
            );
            INSERT INTO tether_lease (scope, owner, incarnation, fence, expires_at) VALUES ('*', NULL, NULL, 0, 0)
            """
        ),
        ("v3-queue", SQLiteStore.queueSchema(integer: "bigint", boolean: "boolean", collate: #" COLLATE "C""#)),
        ("v4-webhook-previous-secret", SQLiteStore.webhookPreviousSecretSchema(integer: "bigint")),
        ("v5-allowed-origins", SQLiteStore.allowedOriginsSchema),
        (
            "v6-audit",
            """
            CREATE TABLE audit_log (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at bigint NOT NULL,
                key_id text NOT NULL,
                action text NOT NULL,
                target text NOT NULL,
                request_id text NOT NULL,
                source_ip text NOT NULL
            )
            """
        ),
        (
            "v7-event-seq",
            """
            CREATE TABLE tether_event_seq (
                id integer PRIMARY KEY CHECK (id = 1),
                last bigint NOT NULL
            );
            INSERT INTO tether_event_seq (id, last) VALUES (1, GREATEST(
                COALESCE((SELECT MAX(cursor) FROM events), 0),
                COALESCE((SELECT value::bigint FROM settings WHERE key = 'cursor'), 0)));
            """
        ),
    ]

    /// The advisory lock that serialises migrations of nodes starting together.
    static let migrationLock: Int64 = 0x7465_7468_6572  // "tether"

    /// Applies every migration not yet applied, in one transaction under an advisory lock (nodes that start
    /// together migrate one after the other; the second finds nothing to do). A database with a migration this
    /// binary does not know was migrated by a newer Tether: ``StoreError/schemaTooNew(found:known:)``.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            _ = try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            _ = try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS tether_migrations (
                    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM tether_migrations", logger: logger)
                .decode(String.self)
            {
                applied.insert(name)
            }
            let known = migrations.map(\.name)
            if let unknown = applied.subtracting(known).sorted().last {
                throw StoreError.schemaTooNew(found: unknown, known: known.last ?? "none")
            }
            for migration in migrations where !applied.contains(migration.name) {
                // The extended protocol takes one statement per query.
                for statement in migration.sql.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: String(statement)), logger: logger)
                }
                _ = try await connection.query(
                    "INSERT INTO tether_migrations (name) VALUES (\(migration.name))", logger: logger)
            }
        }
    }
}
