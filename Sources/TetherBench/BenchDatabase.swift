import Foundation
import Logging
import PostgresNIO

/// A database of the `cluster` scenario's own on the PostgreSQL server it was given: made empty at the start of
/// a run and dropped at its end, so that no run meets what an earlier one left (its tables, or the lease of a
/// node it killed, which made a later run fail with "the owner … is none of this run's nodes").
enum BenchDatabase {
    /// Creates `tether_bench_<random>` on the server `url` names (connecting to the database in `url`) and
    /// returns the new database's URL.
    static func create(on url: String) async throws -> String {
        guard var components = URLComponents(string: url) else { throw BenchError("not a PostgreSQL URL: \(url)") }
        let name = "tether_bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await execute("CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0", on: components)
        components.path = "/" + name
        return components.string ?? url
    }

    /// Drops a database made by ``create(on:)`` (closing its connections first); any other URL is left alone.
    static func drop(_ url: String) async {
        guard var components = URLComponents(string: url) else { return }
        let name = String(components.path.dropFirst())
        guard name.hasPrefix("tether_bench_") else { return }
        components.path = "/postgres"
        try? await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", on: components)
    }

    private static func execute(_ sql: String, on url: URLComponents) async throws {
        let database = url.path.count > 1 ? String(url.path.dropFirst()) : "postgres"
        var configuration = PostgresConnection.Configuration(
            host: url.host ?? "127.0.0.1", port: url.port ?? 5432, username: url.user ?? "postgres",
            password: url.password, database: database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let logger = Logger(label: "tether.bench.postgres")
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
