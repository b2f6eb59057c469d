/// A row read by column index, whichever database it came from: the record types read their fields through
/// this, so one `init(columns:)` per record serves both stores.
///
/// Each accessor gives `nil` for SQL NULL and throws ``StoreError/corruptRecord(_:)`` for a value of another
/// type.
protocol ColumnRow {
    /// The column's text.
    func text(at index: Int) throws -> String?
    /// The column's integer.
    func integer(at index: Int) throws -> Int64?
    /// The column's boolean.
    func boolean(at index: Int) throws -> Bool?
}

// Column conversions shared by the record types: enums are stored as their raw strings, unsigned counters
// (epochs, cursors, sequence numbers) as signed 64-bit integers, which every value the broker makes fits.
extension ColumnRow {
    /// Text that must not be NULL.
    func requiredText(at index: Int) throws -> String {
        guard let value = try text(at: index) else { throw StoreError.corruptRecord("column \(index) is NULL") }
        return value
    }

    /// An integer that must not be NULL.
    func requiredInteger(at index: Int) throws -> Int64 {
        guard let value = try integer(at: index) else { throw StoreError.corruptRecord("column \(index) is NULL") }
        return value
    }

    /// A boolean that must not be NULL.
    func requiredBoolean(at index: Int) throws -> Bool {
        guard let value = try boolean(at: index) else { throw StoreError.corruptRecord("column \(index) is NULL") }
        return value
    }

    /// An `Int` (a count); a value `Int` cannot hold is a corrupt record.
    func int(at index: Int) throws -> Int {
        let value = try requiredInteger(at: index)
        guard let int = Int(exactly: value) else { throw StoreError.corruptRecord("column \(index): \(value)") }
        return int
    }

    /// The enum whose raw value the column holds; a value no case has is a corrupt record.
    func raw<E: RawRepresentable>(_ type: E.Type, at index: Int) throws -> E where E.RawValue == String {
        guard let value = try rawIfPresent(type, at: index) else {
            throw StoreError.corruptRecord("column \(index) is NULL")
        }
        return value
    }

    /// As ``raw(_:at:)``, `nil` for NULL.
    func rawIfPresent<E: RawRepresentable>(_ type: E.Type, at index: Int) throws -> E? where E.RawValue == String {
        guard let raw = try text(at: index) else { return nil }
        guard let value = E(rawValue: raw) else { throw StoreError.corruptRecord("\(E.self): unknown value \(raw)") }
        return value
    }

    /// An unsigned counter stored as a signed 64-bit integer; a negative one is a corrupt record.
    func unsigned(at index: Int) throws -> UInt64 {
        guard let value = try unsignedIfPresent(at: index) else {
            throw StoreError.corruptRecord("column \(index) is NULL")
        }
        return value
    }

    /// As ``unsigned(at:)``, `nil` for NULL.
    func unsignedIfPresent(at index: Int) throws -> UInt64? {
        guard let signed = try integer(at: index) else { return nil }
        guard let value = UInt64(exactly: signed) else { throw StoreError.corruptRecord("negative counter \(signed)") }
        return value
    }
}

/// An unsigned counter as the signed 64-bit integer its column holds.
func signedColumn(_ value: UInt64, _ name: String) throws -> Int64 {
    guard let signed = Int64(exactly: value) else { throw StoreError.outOfRange("\(name) \(value)") }
    return signed
}

/// As ``signedColumn(_:_:)``, `nil` stays `nil`.
func optionalSignedColumn(_ value: UInt64?, _ name: String) throws -> Int64? {
    try value.map { try signedColumn($0, name) }
}
