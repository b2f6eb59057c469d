import GRDB
import TetherCore

/// An audit record as a row of `audit_log`: `id` is the store's (SQLite's `AUTOINCREMENT`, PostgreSQL's
/// identity), assigned on insert, so the insert names every column but `id` (``insertColumns``).
struct AuditRow: ColumnRecord {
    static let databaseTableName = "audit_log"

    /// The columns, in the order ``init(columns:)`` reads them.
    static let columns = ["id", "at", "key_id", "action", "target", "request_id", "source_ip"]

    static let primaryKey = ["id"]

    /// The columns an insert gives (all but `id`).
    static var insertColumns: ArraySlice<String> { columns.dropFirst() }

    /// `INSERT INTO audit_log (…) VALUES (…)` with the store's placeholders.
    static func insertSQL(rows: Int = 1, _ placeholder: Placeholder) -> String {
        let n = insertColumns.count
        let tuples = (0..<rows).map { row in
            "(" + (1...n).map { placeholder(row * n + $0) }.joined(separator: ", ") + ")"
        }
        return "INSERT INTO audit_log (\(insertColumns.joined(separator: ", "))) VALUES "
            + tuples.joined(separator: ", ")
    }

    /// The record.
    var record: AuditRecord

    init(_ record: AuditRecord) {
        self.record = record
    }

    init(columns row: some ColumnRow) throws {
        let action = try row.requiredText(at: 3)
        guard let known = AuditRecord.Action(rawValue: action) else {
            throw StoreError.corruptRecord("audit record: unknown action '\(action)'")
        }
        record = AuditRecord(
            id: try row.requiredInteger(at: 0), at: try row.requiredInteger(at: 1), keyId: try row.requiredText(at: 2),
            action: known, target: try row.requiredText(at: 4), requestId: try row.requiredText(at: 5),
            sourceIp: try row.requiredText(at: 6))
    }

    func columnValues() throws -> [ColumnValue] {
        [.integer(record.id)] + Self.insertValues(record)
    }

    /// The values of ``insertColumns``, in order.
    static func insertValues(_ r: AuditRecord) -> [ColumnValue] {
        [
            .integer(r.at),  // at
            .text(r.keyId),  // key_id
            .text(r.action.rawValue),  // action
            .text(r.target),  // target
            .text(r.requestId),  // request_id
            .text(r.sourceIp),  // source_ip
        ]
    }
}
