import GRDB

/// A record kept as one column per field, read by index in the order of ``columns`` and written from
/// ``columnValues()`` in the same order; the same for both stores (``ColumnRow``, ``ColumnValue``).
///
/// The group-commit writers bind ``columnValues()`` to one upsert statement per table (``upsertSQL(_:)``),
/// computed before their transaction starts; GRDB's own `upsert` (the `PersistableRecord` conformance, from the
/// same values) builds a `PersistenceContainer` and a `RETURNING` clause per row, which cost the API benchmark
/// ~40 % of its throughput (docs/PERFORMANCE.md).
protocol ColumnRecord: FetchableRecord, PersistableRecord, Sendable {
    /// The columns, in the order ``init(columns:)`` reads them and ``columnValues()`` gives them.
    static var columns: [String] { get }
    /// The primary key's columns.
    static var primaryKey: [String] { get }
    /// Reads the record from a row of ``columns``.
    init(columns row: some ColumnRow) throws
    /// The values of ``columns``, in order.
    func columnValues() throws -> [ColumnValue]
}

/// How a store writes the `n`th (1-based) parameter of a statement: `?` for SQLite, `$n` for PostgreSQL.
typealias Placeholder = @Sendable (Int) -> String

extension ColumnRecord {
    /// The `SELECT` list of ``columns``, for hand-written queries.
    static var selection: String { columns.joined(separator: ", ") }

    /// ``columns``, for GRDB's query interface.
    static var databaseSelection: [any SQLSelectable] { columns.map { Column($0) } }

    /// `INSERT INTO table (columns) VALUES (…), (…)` for `rows` rows, with the store's placeholders (the
    /// values of row after row, in the order of ``columns``).
    static func insertSQL(rows: Int = 1, _ placeholder: Placeholder) -> String {
        let n = columns.count
        let tuples = (0..<rows).map { row in
            "(" + (1...n).map { placeholder(row * n + $0) }.joined(separator: ", ") + ")"
        }
        return "INSERT INTO \(databaseTableName) (\(selection)) VALUES " + tuples.joined(separator: ", ")
    }

    /// ``insertSQL(rows:_:)`` that replaces every other column of a row with the same ``primaryKey`` (no two
    /// of the rows may have the same key).
    static func upsertSQL(rows: Int = 1, _ placeholder: Placeholder) -> String {
        let updates = columns.filter { !primaryKey.contains($0) }.map { "\($0) = excluded.\($0)" }
        return insertSQL(rows: rows, placeholder)
            + " ON CONFLICT (\(primaryKey.joined(separator: ", "))) DO UPDATE SET "
            + updates.joined(separator: ", ")
    }

    /// ``insertSQL(_:)`` for SQLite.
    static var insertSQL: String { insertSQL { _ in "?" } }

    /// ``upsertSQL(_:)`` for SQLite.
    static var upsertSQL: String { upsertSQL { _ in "?" } }

    init(row: Row) throws {
        try self.init(columns: row)
    }

    /// The statement arguments of ``columnValues()`` for SQLite.
    func arguments() throws -> StatementArguments {
        StatementArguments(try columnValues().map(\.databaseValue))
    }

    func encode(to container: inout PersistenceContainer) throws {
        for (column, value) in zip(Self.columns, try columnValues()) { container[column] = value.databaseValue }
    }
}
