import GRDB

/// A record kept as one column per field, read by index in the order of ``columns`` and written from
/// ``databaseValues()`` in the same order.
///
/// The group-commit writer binds ``databaseValues()`` to one cached `INSERT … ON CONFLICT DO UPDATE`
/// statement per table (``upsertSQL``), computed before its transaction starts; GRDB's own `upsert` (the
/// `PersistableRecord` conformance, from the same values) builds a `PersistenceContainer` and a `RETURNING`
/// clause per row, which cost the API benchmark ~40 % of its throughput (docs/PERFORMANCE.md).
protocol ColumnRecord: FetchableRecord, PersistableRecord, Sendable {
    /// The columns, in the order `init(row:)` reads them and ``databaseValues()`` gives them.
    static var columns: [String] { get }
    /// The primary key's columns.
    static var primaryKey: [String] { get }
    /// The values of ``columns``, in order.
    func databaseValues() throws -> [DatabaseValue]
}

extension ColumnRecord {
    /// The `SELECT` list of ``columns``, for hand-written queries.
    static var selection: String { columns.joined(separator: ", ") }

    /// ``columns``, for GRDB's query interface.
    static var databaseSelection: [any SQLSelectable] { columns.map { Column($0) } }

    /// `INSERT INTO table (columns) VALUES (?, …)`.
    static var insertSQL: String {
        "INSERT INTO \(databaseTableName) (\(selection)) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
    }

    /// ``insertSQL`` that replaces every other column of the row with the same ``primaryKey``.
    static var upsertSQL: String {
        let updates = columns.filter { !primaryKey.contains($0) }.map { "\($0) = excluded.\($0)" }
        return insertSQL + " ON CONFLICT (\(primaryKey.joined(separator: ", "))) DO UPDATE SET "
            + updates.joined(separator: ", ")
    }

    /// The statement arguments of ``databaseValues()``.
    func arguments() throws -> StatementArguments {
        StatementArguments(try databaseValues())
    }

    func encode(to container: inout PersistenceContainer) throws {
        for (column, value) in zip(Self.columns, try databaseValues()) { container[column] = value }
    }
}

extension Optional where Wrapped: DatabaseValueConvertible {
    /// The value, or SQL NULL.
    var databaseValueOrNull: DatabaseValue { self?.databaseValue ?? .null }
}
