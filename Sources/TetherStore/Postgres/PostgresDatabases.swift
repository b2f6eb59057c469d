import Foundation
import Logging
import PostgresNIO

/// Throwaway databases on a PostgreSQL server, for the tests (`tether_test_…`) and `tether bench cluster`
/// (`tether_bench_…`): made empty, dropped at the end. Never used on a store's own database.
public enum PostgresDatabases {
    /// Creates `<prefix><random>` on the server `url` names (connecting to the database in `url`, `postgres`
    /// if none) and returns the new database's URL (`url` with its path replaced).
    public static func create(prefix: String, on url: String) async throws -> String {
        guard var components = URLComponents(string: url), components.host != nil else {
            throw PostgresDatabasesError(description: "not a PostgreSQL URL: \(url)")
        }
        let name = prefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await execute("CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0", on: components)
        components.path = "/" + name
        return components.string ?? url
    }

    /// Drops the database `url` names, closing its connections first, if its name starts with `prefix` (any other
    /// is left alone).
    public static func drop(_ url: String, prefix: String) async {
        guard var components = URLComponents(string: url) else { return }
        let name = String(components.path.dropFirst())
        guard name.hasPrefix(prefix), name.count > prefix.count else { return }
        components.path = "/postgres"
        try? await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", on: components)
    }

    /// Runs one statement on the database `url` names (`postgres` if none), without TLS.
    public static func execute(_ sql: String, on url: URLComponents) async throws {
        let database = url.path.count > 1 ? String(url.path.dropFirst()) : "postgres"
        var configuration = PostgresConnection.Configuration(
            host: url.host ?? "127.0.0.1", port: url.port ?? 5432, username: url.user ?? "postgres",
            password: url.password, database: database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let logger = Logger(label: "tether.postgres.databases")
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}

/// A URL ``PostgresDatabases`` cannot use.
public struct PostgresDatabasesError: Error, CustomStringConvertible {
    public let description: String
}
