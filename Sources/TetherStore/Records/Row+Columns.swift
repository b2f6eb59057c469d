import GRDB

// Column conversions shared by the record types: enums are stored as their raw strings, unsigned counters
// (epochs, cursors, sequence numbers) as signed 64-bit integers, which every value the broker makes fits.

extension Row {
    /// The enum whose raw value the column holds; a value no case has is a corrupt record.
    func decodeRaw<E: RawRepresentable>(_ type: E.Type, atIndex index: Int) throws -> E where E.RawValue == String {
        let raw: String = try decode(atIndex: index)
        guard let value = E(rawValue: raw) else { throw StoreError.corruptRecord("\(E.self): unknown value \(raw)") }
        return value
    }

    /// As ``decodeRaw(_:atIndex:)``, `nil` for NULL.
    func decodeRawIfPresent<E: RawRepresentable>(_ type: E.Type, atIndex index: Int) throws -> E?
    where E.RawValue == String {
        guard let raw: String = try decode(String?.self, atIndex: index) else { return nil }
        guard let value = E(rawValue: raw) else { throw StoreError.corruptRecord("\(E.self): unknown value \(raw)") }
        return value
    }

    /// An unsigned counter stored as a signed 64-bit integer; a negative one is a corrupt record.
    func decodeUnsigned(atIndex index: Int) throws -> UInt64 {
        let signed: Int64 = try decode(atIndex: index)
        guard let value = UInt64(exactly: signed) else { throw StoreError.corruptRecord("negative counter \(signed)") }
        return value
    }

    /// As ``decodeUnsigned(atIndex:)``, `nil` for NULL.
    func decodeUnsignedIfPresent(atIndex index: Int) throws -> UInt64? {
        guard let signed: Int64 = try decode(Int64?.self, atIndex: index) else { return nil }
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
