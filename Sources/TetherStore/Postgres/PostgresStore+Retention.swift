import PostgresNIO
import TetherCore

extension PostgresStore {
    /// Deletes every event but the newest `keepLast`, and every event that happened before `before`, in slices
    /// of at most 10 000 rows per transaction, as ``SQLiteStore/pruneEvents(keepLast:before:)`` does. Returns
    /// how many were deleted, and records the highest deleted cursor.
    public func pruneEvents(keepLast: Int, before: Millis) async throws -> Int {
        guard !isClosed else { throw StoreError.closed }
        let logger = logger
        var total = 0
        while true {
            let deleted = try await client.withTransaction(logger: logger) { connection -> Int in
                func one(_ query: PostgresQuery) async throws -> Int64? {
                    var result: Int64?
                    for try await value in try await connection.query(query, logger: logger).decode(Int64?.self) {
                        result = value
                    }
                    return result
                }
                let newest = try await one("SELECT MAX(cursor) FROM events") ?? 0
                let byCount = newest - Int64(max(0, keepLast))
                let firstRecent =
                    try await one("SELECT cursor FROM events WHERE at >= \(before) ORDER BY cursor LIMIT 1")
                    ?? (newest + 1)
                let through = max(byCount, firstRecent - 1)
                guard through > 0 else { return 0 }
                let slice =
                    try await one(
                        "SELECT cursor FROM events WHERE cursor <= \(through) ORDER BY cursor LIMIT 1 OFFSET 9999")
                    ?? through
                let count =
                    try await one(
                        "WITH d AS (DELETE FROM events WHERE cursor <= \(slice) RETURNING 1) SELECT count(*) FROM d")
                    ?? 0
                if count > 0 {
                    _ = try await connection.query(
                        """
                        INSERT INTO settings (key, value) VALUES (\(Self.prunedThroughSettingKey), \(String(slice)))
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value
                        WHERE excluded.value::bigint > settings.value::bigint
                        """, logger: logger)
                }
                return Int(count)
            }
            total += deleted
            if deleted < 10_000 { return total }
        }
    }

    /// The highest cursor deleted by retention so far, 0 when none was.
    public func eventsPrunedThrough() async throws -> UInt64 {
        let value = try await setting(Self.prunedThroughSettingKey)
        return value.flatMap { UInt64($0) } ?? 0
    }
}
