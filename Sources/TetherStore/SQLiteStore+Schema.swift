import GRDB

extension SQLiteStore {
    /// The schema's migrations, applied in order and recorded in the database (`grdb_migrations`).
    ///
    /// Whole records are stored as JSON (`json`), next to the columns that queries filter and sort on. The
    /// session indexes end with `created_at, id` so that a project's newest sessions are read straight from
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
        return migrator
    }
}
