import GRDB
import TetherCore

extension SQLiteStore {
    /// The settings key of the highest pruned cursor (reserved: do not set it yourself).
    static let prunedThroughSettingKey = "eventsPrunedThrough"

    /// Deletes every event but the newest `keepLast`, and every event that happened before `before`, in
    /// slices of at most 10 000 rows per transaction so that commits wait at most one slice. Returns how
    /// many were deleted, and records the highest deleted cursor.
    public func pruneEvents(keepLast: Int, before: Millis) async throws -> Int {
        guard !isClosed else { throw StoreError.closed }
        var total = 0
        while true {
            let deleted = try await pool.write { db -> Int in
                let newest = try Int64.fetchOne(db, sql: "SELECT MAX(cursor) FROM events") ?? 0
                let byCount = newest - Int64(max(0, keepLast))
                // Events are written in cursor order with a clock that does not go back (the broker's `now`
                // never decreases), so the ones older than `before` are a prefix of the table: the scan stops
                // at the first one that is recent enough.
                let firstRecent =
                    try Int64.fetchOne(
                        db, sql: "SELECT cursor FROM events WHERE at >= ? ORDER BY cursor LIMIT 1",
                        arguments: [before]) ?? (newest + 1)
                let through = max(byCount, firstRecent - 1)
                guard through > 0 else { return 0 }
                let slice =
                    try Int64.fetchOne(
                        db,
                        sql: "SELECT cursor FROM events WHERE cursor <= ? ORDER BY cursor LIMIT 1 OFFSET 9999",
                        arguments: [through]) ?? through
                try db.execute(sql: "DELETE FROM events WHERE cursor <= ?", arguments: [slice])
                let count = db.changesCount
                if count > 0 {
                    try db.execute(
                        sql: """
                            INSERT INTO settings (key, value) VALUES (?, ?)
                            ON CONFLICT (key) DO UPDATE SET value = excluded.value
                            WHERE CAST(excluded.value AS INTEGER) > CAST(settings.value AS INTEGER)
                            """,
                        arguments: [Self.prunedThroughSettingKey, String(slice)])
                }
                return count
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
