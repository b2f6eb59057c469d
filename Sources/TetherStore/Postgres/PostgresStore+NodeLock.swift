import Logging
import PostgresNIO

extension PostgresStore {
    /// The advisory lock a lone server holds on its database (`exclusive`).
    static let nodeLock: Int64 = 0x7465_7468_6572_6e31  // "tethern1"

    /// Takes the single-server lock on `connection` (kept open by the store), or throws ``StoreError/inUse(_:)``.
    static func takeNodeLock(_ connection: PostgresConnection, url: PostgresURL, logger: Logger) async throws {
        guard try await tryLock("SELECT pg_try_advisory_lock(\(nodeLock))", connection, logger) else {
            throw StoreError.inUse("\(url): another Tether server holds this database alone")
        }
    }

    /// Takes the lock of one node id on `connection` (kept open by the store while the node lives), or throws
    /// ``StoreError/inUse(_:)``: two live processes never share a node id. The lock is a session-level advisory
    /// lock, so PostgreSQL frees it the moment the holder's connection ends (a `kill -9` included) and a node
    /// restarted after a crash gets its id back at once; a frozen process (SIGSTOP) keeps its connection, and
    /// its id, until it is gone.
    static func takeNodeIdLock(_ connection: PostgresConnection, nodeId: String, logger: Logger) async throws {
        let key = "tether-node:" + nodeId
        guard try await tryLock("SELECT pg_try_advisory_lock(hashtextextended(\(key), 0))", connection, logger) else {
            throw StoreError.inUse(
                "node id \(nodeId) is in use by a live node on this database: give each node its own --node-id")
        }
    }

    private static func tryLock(_ query: PostgresQuery, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> Bool
    {
        var taken = false
        for try await value in try await connection.query(query, logger: logger).decode(Bool.self) { taken = value }
        return taken
    }
}
