import GRDB
import GRDBSQLite

/// SQLite's `SQLITE_TRANSIENT`: SQLite copies a bound text before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension Statement {
    /// Runs the statement with `values` bound to its positional parameters, in order, straight through
    /// SQLite's `sqlite3_bind_*` on ``Statement/sqliteStatement``.
    ///
    /// GRDB's `StatementArguments` is built by generic code that is not specialised across modules: a key
    /// path and a metadata look-up per value, ~3 % of the server's CPU while a reconnect storm's group
    /// commits ran (docs/PERFORMANCE.md). `setUncheckedArguments` with no arguments resets the statement and
    /// clears its bindings, and tells GRDB the statement is bound, so `execute()` then steps it as bound here.
    /// A count that does not match the statement's parameters throws and runs nothing.
    func execute(binding values: [ColumnValue]) throws {
        let parameters = Int(sqlite3_bind_parameter_count(sqliteStatement))
        guard values.count == parameters else {
            throw StoreError.corruptRecord("\(values.count) values for \(parameters) parameters: \(sql)")
        }
        setUncheckedArguments(StatementArguments())
        let statement = sqliteStatement
        for (offset, value) in values.enumerated() {
            let index = CInt(offset + 1)
            let code: CInt
            switch value {
            case .null: code = sqlite3_bind_null(statement, index)
            case .integer(let number): code = sqlite3_bind_int64(statement, index, number)
            case .boolean(let flag): code = sqlite3_bind_int64(statement, index, flag ? 1 : 0)
            case .text(var text):
                code = text.withUTF8 { utf8 in
                    // An empty buffer may have no address, and a null pointer would bind NULL, not "".
                    guard let base = utf8.baseAddress, !utf8.isEmpty else {
                        return sqlite3_bind_text(statement, index, "", 0, transient)
                    }
                    return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                        sqlite3_bind_text(statement, index, $0, CInt(utf8.count), transient)
                    }
                }
            }
            guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code)) }
        }
        try execute()
    }
}
