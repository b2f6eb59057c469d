import Logging
import PostgresNIO

extension PostgresStore {
    /// The advisory lock a single node holds on its database (the cluster replaces it with project leases).
    static let nodeLock: Int64 = 0x7465_7468_6572_6e31  // "tethern1"

    /// Takes the single-node lock on `connection` (kept open by the store), or throws ``StoreError/inUse(_:)``.
    static func takeNodeLock(_ connection: PostgresConnection, url: PostgresURL, logger: Logger) async throws {
        var taken = false
        for try await value in try await connection.query("SELECT pg_try_advisory_lock(\(nodeLock))", logger: logger)
            .decode(Bool.self)
        {
            taken = value
        }
        guard taken else {
            throw StoreError.inUse(
                "\(url): another Tether server is running on this database (one node per database until the cluster, issue 14, is built)"
            )
        }
    }
}
