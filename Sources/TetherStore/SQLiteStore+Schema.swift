import GRDB

extension SQLiteStore {
    /// The schema's migrations, applied in order and recorded in the database (`grdb_migrations`).
    ///
    /// v1 and v2 stored whole records as JSON text (`json`) next to the columns that queries filter and sort on;
    /// v3 keeps every field in its own column (the record types in `Records/`). The session indexes end with `created_at, id` so that a project's newest sessions are read straight from
    /// the index, and `sessions_live` keeps `load()` from scanning ended sessions.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE projects (
                        id TEXT PRIMARY KEY NOT NULL,
                        json TEXT NOT NULL
                    );
                    CREATE TABLE sessions (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        json TEXT NOT NULL
                    );
                    CREATE INDEX sessions_project_state ON sessions (project_id, state, created_at, id);
                    CREATE INDEX sessions_project_created ON sessions (project_id, created_at, id);
                    CREATE INDEX sessions_live ON sessions (id) WHERE state != 'ended';
                    CREATE TABLE reservations (
                        project_id TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        json TEXT NOT NULL,
                        PRIMARY KEY (project_id, user_id)
                    );
                    CREATE TABLE events (
                        cursor INTEGER PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL,
                        session_id TEXT,
                        at INTEGER NOT NULL,
                        json TEXT NOT NULL
                    );
                    CREATE INDEX events_project ON events (project_id);
                    CREATE TABLE settings (
                        key TEXT PRIMARY KEY NOT NULL,
                        value TEXT NOT NULL
                    );
                    """)
        }
        // Reading one project's events in cursor order straight from the index (the feed, SSE, webhooks).
        migrator.registerMigration("v2-events-by-project") { db in
            try db.execute(
                sql: """
                    DROP INDEX events_project;
                    CREATE INDEX events_project_cursor ON events (project_id, cursor);
                    """)
        }
        // Records as columns (issue 13): every field its own column, the same schema a PostgreSQL store keeps.
        // Existing rows are converted in the migration's transaction, from their JSON.
        migrator.registerMigration("v3-columns") { db in
            try db.execute(sql: columnsSchema)
        }
        // The waiting queue (issue 15): its settings in `projects`, its tickets, and the queue events' fields.
        migrator.registerMigration("v4-queue") { db in
            try db.execute(sql: queueSchema(integer: "INTEGER", boolean: "INTEGER", strict: " STRICT"))
        }
        // The secret a webhook secret change replaced, signing beside the new one for a while (issue 16).
        migrator.registerMigration("v5-webhook-previous-secret") { db in
            try db.execute(sql: webhookPreviousSecretSchema(integer: "INTEGER"))
        }
        // The browser origins a project's clients may connect from (issue 16).
        migrator.registerMigration("v6-allowed-origins") { db in
            try db.execute(sql: allowedOriginsSchema)
        }
        // The audit trail of the backend API's changes (issue 16).
        migrator.registerMigration("v7-audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        key_id TEXT NOT NULL,
                        action TEXT NOT NULL,
                        target TEXT NOT NULL,
                        request_id TEXT NOT NULL,
                        source_ip TEXT NOT NULL
                    ) STRICT
                    """)
        }
        return migrator
    }

    /// The replaced webhook secret's columns, in either store's types (SQLite's v5, PostgreSQL's v4).
    static func webhookPreviousSecretSchema(integer: String) -> String {
        """
        ALTER TABLE projects ADD COLUMN webhook_previous_secret TEXT;
        ALTER TABLE projects ADD COLUMN webhook_previous_secret_until \(integer);
        """
    }

    /// The allowed origins' column, in either store (SQLite's v6, PostgreSQL's v5).
    static let allowedOriginsSchema = "ALTER TABLE projects ADD COLUMN allowed_origins TEXT;"

    /// The waiting queue's schema, in either store's types (SQLite's v4, PostgreSQL's v3): the queue settings
    /// with the contract's defaults, the tickets (one per user of a project), and the queue events' fields.
    static func queueSchema(integer: String, boolean: String, strict: String = "", collate: String = "") -> String {
        """
        ALTER TABLE projects ADD COLUMN queue_enabled \(boolean) NOT NULL DEFAULT \(boolean == "boolean" ? "false" : "0");
        ALTER TABLE projects ADD COLUMN queue_offer_ttl_ms \(integer) NOT NULL DEFAULT 30000;
        ALTER TABLE projects ADD COLUMN queue_max_length \(integer) NOT NULL DEFAULT 10000;
        ALTER TABLE projects ADD COLUMN queue_client_timeout_ms \(integer) NOT NULL DEFAULT 30000;
        CREATE TABLE queue_tickets (
            project_id TEXT\(collate) NOT NULL,
            user_id TEXT\(collate) NOT NULL,
            ticket_id TEXT NOT NULL,
            priority \(integer) NOT NULL,
            seq \(integer) NOT NULL,
            enqueued_at \(integer) NOT NULL,
            user_ip TEXT,
            offered_concurrency TEXT,
            PRIMARY KEY (project_id, user_id)
        )\(strict);
        ALTER TABLE events ADD COLUMN ticket_id TEXT;
        ALTER TABLE events ADD COLUMN position \(integer)
        """
    }

    /// Creates the v3 tables beside the JSON ones, copies every row across, and replaces them.
    static let columnsSchema = """
        CREATE TABLE projects_v3 (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            capacity INTEGER NOT NULL,
            heartbeat_interval_ms INTEGER NOT NULL,
            heartbeat_timeout_ms INTEGER NOT NULL,
            reconnect_grace_ms INTEGER NOT NULL,
            reservation_ttl_ms INTEGER NOT NULL,
            connect_timeout_ms INTEGER NOT NULL,
            max_suspend_ms INTEGER NOT NULL,
            webhook_url TEXT,
            webhook_secret TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        INSERT INTO projects_v3 SELECT
            id, json_extract(json, '$.name'), json_extract(json, '$.policy.capacity'),
            json_extract(json, '$.policy.heartbeat.intervalMs'), json_extract(json, '$.policy.heartbeat.timeoutMs'),
            json_extract(json, '$.policy.reconnectGraceMs'), json_extract(json, '$.policy.reservationTtlMs'),
            json_extract(json, '$.policy.connectTimeoutMs'), json_extract(json, '$.policy.maxSuspendMs'),
            json_extract(json, '$.policy.webhook.url'), json_extract(json, '$.policy.webhook.secret'),
            json_extract(json, '$.createdAt'), json_extract(json, '$.updatedAt')
        FROM projects;
        DROP TABLE projects;
        ALTER TABLE projects_v3 RENAME TO projects;

        CREATE TABLE sessions_v3 (
            id TEXT PRIMARY KEY NOT NULL,
            project_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            concurrency_id TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            state TEXT NOT NULL,
            end_reason TEXT,
            last_cause TEXT,
            deadline_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            ended_at INTEGER,
            last_heartbeat_at INTEGER,
            connection INTEGER,
            transport TEXT,
            ever_connected INTEGER NOT NULL,
            resume_token_hash TEXT,
            previous_resume_token_hash TEXT,
            previous_resume_token_until INTEGER,
            seq INTEGER NOT NULL,
            user_ip TEXT,
            client_session TEXT,
            run_mode TEXT,
            parameters TEXT,
            history TEXT NOT NULL
        ) STRICT;
        INSERT INTO sessions_v3 SELECT
            id, project_id, user_id, json_extract(json, '$.concurrencyId'), json_extract(json, '$.epoch'), state,
            json_extract(json, '$.endReason'), json_extract(json, '$.lastCause'), json_extract(json, '$.deadlineAt'),
            created_at, updated_at, json_extract(json, '$.endedAt'), json_extract(json, '$.lastHeartbeatAt'),
            json_extract(json, '$.connection'), json_extract(json, '$.transport'),
            json_extract(json, '$.everConnected'), json_extract(json, '$.resumeTokenHash'),
            json_extract(json, '$.previousResumeTokenHash'), json_extract(json, '$.previousResumeTokenUntil'),
            json_extract(json, '$.seq'), json_extract(json, '$.metadata.userIp'),
            json_extract(json, '$.metadata.clientSession'), json_extract(json, '$.metadata.runMode'),
            json_extract(json, '$.metadata.parameters'), json_extract(json, '$.history')
        FROM sessions;
        DROP TABLE sessions;
        ALTER TABLE sessions_v3 RENAME TO sessions;
        CREATE INDEX sessions_project_state ON sessions (project_id, state, created_at, id);
        CREATE INDEX sessions_project_created ON sessions (project_id, created_at, id);
        CREATE INDEX sessions_live ON sessions (id) WHERE state != 'ended';

        CREATE TABLE reservations_v3 (
            project_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            concurrency_id TEXT NOT NULL,
            reserved_until INTEGER NOT NULL,
            user_ip TEXT,
            PRIMARY KEY (project_id, user_id)
        ) STRICT;
        INSERT INTO reservations_v3 SELECT
            project_id, user_id, json_extract(json, '$.concurrencyId'), json_extract(json, '$.reservedUntil'),
            json_extract(json, '$.userIp')
        FROM reservations;
        DROP TABLE reservations;
        ALTER TABLE reservations_v3 RENAME TO reservations;

        CREATE TABLE events_v3 (
            cursor INTEGER PRIMARY KEY NOT NULL,
            at INTEGER NOT NULL,
            type TEXT NOT NULL,
            project_id TEXT NOT NULL,
            session_id TEXT,
            user_id TEXT NOT NULL,
            concurrency_id TEXT NOT NULL,
            epoch INTEGER,
            session_seq INTEGER,
            cause TEXT,
            reason TEXT,
            deadline_at INTEGER,
            reused INTEGER,
            transport TEXT,
            suspend_reason TEXT,
            retired INTEGER,
            from_state TEXT
        ) STRICT;
        INSERT INTO events_v3 SELECT
            cursor, at, json_extract(json, '$.type'), project_id, session_id, json_extract(json, '$.userId'),
            json_extract(json, '$.concurrencyId'), json_extract(json, '$.epoch'), json_extract(json, '$.sessionSeq'),
            json_extract(json, '$.data.cause'), json_extract(json, '$.data.reason'),
            json_extract(json, '$.data.deadlineAt'), json_extract(json, '$.data.reused'),
            json_extract(json, '$.data.transport'), json_extract(json, '$.data.suspendReason'),
            json_extract(json, '$.data.retired'), json_extract(json, '$.data.from')
        FROM events;
        DROP TABLE events;
        ALTER TABLE events_v3 RENAME TO events;
        CREATE INDEX events_project_cursor ON events (project_id, cursor);
        """
}
