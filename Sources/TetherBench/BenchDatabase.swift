import TetherStore

/// A database of the `cluster` scenario's own on the PostgreSQL server it was given: made empty at the start of
/// a run and dropped at its end, so that no run meets what an earlier one left (its tables, or the lease of a
/// node it killed, which made a later run fail with "the owner … is none of this run's nodes").
enum BenchDatabase {
    static let prefix = "tether_bench_"

    /// Creates `tether_bench_<random>` on the server `url` names and returns the new database's URL.
    static func create(on url: String) async throws -> String {
        try await PostgresDatabases.create(prefix: prefix, on: url)
    }

    /// Drops a database made by ``create(on:)``; any other URL is left alone.
    static func drop(_ url: String) async { await PostgresDatabases.drop(url, prefix: prefix) }
}
