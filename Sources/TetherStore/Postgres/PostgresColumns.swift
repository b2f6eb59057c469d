import PostgresNIO

/// A PostgreSQL row, read by the record types by column index.
struct PostgresColumns: ColumnRow {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row.makeRandomAccess()
    }

    private func decode<T: PostgresDecodable>(_ type: T.Type, at index: Int) throws -> T? {
        let cell = row[index]
        guard cell.bytes != nil else { return nil }
        do {
            return try cell.decode(T.self)
        } catch {
            throw StoreError.corruptRecord("column \(cell.columnName): not \(T.self) (\(cell.dataType))")
        }
    }

    func text(at index: Int) throws -> String? { try decode(String.self, at: index) }
    func integer(at index: Int) throws -> Int64? { try decode(Int64.self, at: index) }
    func boolean(at index: Int) throws -> Bool? { try decode(Bool.self, at: index) }
}

extension PostgresBindings {
    /// Binds a record's column value.
    mutating func append(_ value: ColumnValue) {
        switch value {
        case .null: appendNull()
        case .integer(let v): append(v)
        case .text(let v): append(v)
        case .boolean(let v): append(v)
        }
    }

    /// Bindings of the values, in order.
    init(values: [ColumnValue]) {
        self.init(capacity: values.count)
        for value in values { append(value) }
    }
}

extension ColumnRecord {
    /// ``upsertSQL(_:)`` for PostgreSQL (`$1`, `$2`, …).
    static var postgresUpsertSQL: String { upsertSQL { "$\($0)" } }

    /// ``insertSQL(_:)`` for PostgreSQL.
    static var postgresInsertSQL: String { insertSQL { "$\($0)" } }
}

/// The error a transaction's closure threw, when it is the store's own (postgres-nio wraps it).
func storeError(_ error: any Error) -> StoreError? {
    if let error = error as? StoreError { return error }
    if let error = error as? PostgresTransactionError, let inner = error.closureError ?? error.commitError {
        return storeError(inner)
    }
    return nil
}

/// A one-line account of a PostgreSQL error: postgres-nio's own `description` hides the server's message.
func describePostgresError(_ error: any Error) -> String {
    if let error = error as? PostgresTransactionError,
        let inner = error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError
    {
        return describePostgresError(inner)
    }
    guard let error = error as? PSQLError else { return "\(error)" }
    if let message = error.serverInfo?[.message] {
        let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
        return message + code
    }
    if let underlying = error.underlying { return "\(error.code): \(underlying)" }
    return "\(error.code)"
}
