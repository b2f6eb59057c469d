/// One column's value as a record gives it to either store: SQLite binds it as a `DatabaseValue`, PostgreSQL
/// as a `PostgresData` (`SQLiteStore` and `PostgresStore` each convert it; the records know neither).
enum ColumnValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A signed 64-bit integer (`INTEGER` in SQLite, `bigint` in PostgreSQL).
    case integer(Int64)
    /// Text (`TEXT`, `text`).
    case text(String)
    /// A boolean (`INTEGER` 0 or 1 in SQLite, `boolean` in PostgreSQL).
    case boolean(Bool)
}

extension ColumnValue {
    /// Text, or NULL for `nil`.
    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    /// An integer, or NULL for `nil`.
    init(_ value: Int64?) { self = value.map { .integer($0) } ?? .null }
    /// An integer.
    init(_ value: Int) { self = .integer(Int64(value)) }
    /// A boolean, or NULL for `nil`.
    init(_ value: Bool?) { self = value.map { .boolean($0) } ?? .null }
    /// An enum as its raw string, or NULL for `nil`.
    init<E: RawRepresentable>(raw value: E?) where E.RawValue == String { self.init(value?.rawValue) }
}
