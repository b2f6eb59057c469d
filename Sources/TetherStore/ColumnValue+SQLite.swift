import GRDB

extension ColumnValue {
    /// The value as SQLite stores it (a boolean as the integer 0 or 1).
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .boolean(let value): value.databaseValue
        }
    }
}

/// GRDB's row, read by the record types.
extension Row: ColumnRow {
    func text(at index: Int) throws -> String? {
        let value: DatabaseValue = self[index]
        switch value.storage {
        case .null: return nil
        case .string(let text): return text
        default: throw StoreError.corruptRecord("column \(index): \(value) is not text")
        }
    }

    func integer(at index: Int) throws -> Int64? {
        let value: DatabaseValue = self[index]
        switch value.storage {
        case .null: return nil
        case .int64(let integer): return integer
        default: throw StoreError.corruptRecord("column \(index): \(value) is not an integer")
        }
    }

    func boolean(at index: Int) throws -> Bool? {
        switch try integer(at: index) {
        case nil: return nil
        case 0: return false
        case 1: return true
        case let other?: throw StoreError.corruptRecord("column \(index): \(other) is not a boolean")
        }
    }
}
