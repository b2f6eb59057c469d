import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL server the tests use: `scripts/test.sh` starts one (scripts/postgres.sh) and names it in
/// `TETHER_TEST_POSTGRES_URL`; each test makes a database of its own there and drops it at the end. A test that
/// needs PostgreSQL fails (it is never skipped) when the variable is not set.
public enum TestPostgres {
    /// The variable that names the server.
    public static let variable = "TETHER_TEST_POSTGRES_URL"

    /// The server's URL (`postgres://USER@HOST:PORT/DATABASE`, trust authentication, no TLS).
    public static func serverURL() throws -> URLComponents {
        guard let text = ProcessInfo.processInfo.environment[variable], let url = URLComponents(string: text),
            url.host != nil, url.user != nil
        else {
            throw Missing(
                description:
                    "\(variable) is not set: run scripts/test.sh, which starts PostgreSQL (or scripts/postgres.sh start DIR)"
            )
        }
        return url
    }

    /// No test server is named.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs one statement on the server's own database, or on `database`.
    public static func execute(_ sql: String, database: String? = nil) async throws {
        let server = try serverURL()
        var configuration = PostgresConnection.Configuration(
            host: server.host ?? "127.0.0.1", port: server.port ?? 5432, username: server.user ?? "tether",
            password: server.password, database: database ?? String(server.path.dropFirst()), tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let logger = Logger(label: "test.postgres")
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// Creates an empty database and returns its URL (with `sslmode=disable`).
    public static func createDatabase() async throws -> String {
        let server = try serverURL()
        let name = "tether_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await execute("CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0")
        return
            "postgres://\(server.user ?? "tether")@\(server.host ?? "127.0.0.1"):\(server.port ?? 5432)/\(name)?sslmode=disable"
    }

    /// The database a URL from ``createDatabase()`` names.
    public static func databaseName(_ url: String) -> String? {
        URLComponents(string: url).map { String($0.path.dropFirst()) }
    }

    /// Drops a database made by ``createDatabase()``, closing its connections first.
    public static func dropDatabase(_ url: String) async {
        guard let name = databaseName(url), name.hasPrefix("tether_test_") else { return }
        try? await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
