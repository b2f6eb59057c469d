/// Writes JSON text straight into bytes, for records and API bodies on hot paths.
///
/// Foundation's `JSONEncoder` goes through `Codable`'s generic containers and costs about ten times more per
/// record; this writer appends each key and value in place. Commas are placed by the writer: start every
/// member with ``key(_:)`` and every array element with a value, ``beginObject()`` or ``beginArray()``.
/// Strings are escaped as RFC 8259 requires (quote, backslash and control characters); `/` is not escaped.
/// Optional fields given `nil` are left out, as the synthesized `Encodable` conformances do.
public struct JSONWriter: Sendable {
    /// The JSON text so far (UTF-8).
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    /// Creates an empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The JSON text so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Empties the writer, keeping its storage, to write the next value.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// Starts an object (as a member's value or an array element).
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Ends the current object.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Starts an array.
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Ends the current array.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Starts a member: `"name":`. `name` must not need escaping.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Starts a member whose name is only known at run time (escaped like any string).
    public mutating func key(_ name: String) {
        separate()
        writeEscaped(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A string value.
    public mutating func value(_ string: String) {
        separate()
        writeEscaped(string)
        needsComma = true
    }

    /// An integer value.
    public mutating func value(_ number: Int64) {
        separate()
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        writeDigits(number.magnitude)
        needsComma = true
    }

    /// An integer value.
    public mutating func value(_ number: Int) { value(Int64(number)) }

    /// An unsigned integer value.
    public mutating func value(_ number: UInt64) {
        separate()
        writeDigits(number)
        needsComma = true
    }

    /// `true` or `false`.
    public mutating func value(_ flag: Bool) {
        separate()
        if flag {
            bytes.append(contentsOf: [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")])
        } else {
            bytes.append(contentsOf: [
                UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e"),
            ])
        }
        needsComma = true
    }

    /// `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
        needsComma = true
    }

    /// A value that is already JSON text (written as is; the caller vouches for it).
    public mutating func rawValue(_ json: some Collection<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// A member with a string value.
    public mutating func field(_ name: StaticString, _ string: String) {
        key(name)
        value(string)
    }

    /// A member with a string value, left out when `nil`.
    public mutating func field(_ name: StaticString, _ string: String?) {
        guard let string else { return }
        key(name)
        value(string)
    }

    /// A member with an integer value.
    public mutating func field(_ name: StaticString, _ number: Int64) {
        key(name)
        value(number)
    }

    /// A member with an integer value, left out when `nil`.
    public mutating func field(_ name: StaticString, _ number: Int64?) {
        guard let number else { return }
        key(name)
        value(number)
    }

    /// A member with an integer value.
    public mutating func field(_ name: StaticString, _ number: Int) {
        key(name)
        value(number)
    }

    /// A member with an unsigned integer value.
    public mutating func field(_ name: StaticString, _ number: UInt64) {
        key(name)
        value(number)
    }

    /// A member with an unsigned integer value, left out when `nil`.
    public mutating func field(_ name: StaticString, _ number: UInt64?) {
        guard let number else { return }
        key(name)
        value(number)
    }

    /// A member with a boolean value.
    public mutating func field(_ name: StaticString, _ flag: Bool) {
        key(name)
        value(flag)
    }

    /// A member with a boolean value, left out when `nil`.
    public mutating func field(_ name: StaticString, _ flag: Bool?) {
        guard let flag else { return }
        key(name)
        value(flag)
    }

    /// A member whose value is the raw value of a string enum, left out when `nil`.
    public mutating func field<T: RawRepresentable>(_ name: StaticString, _ value: T?) where T.RawValue == String {
        guard let value else { return }
        key(name)
        self.value(value.rawValue)
    }

    private mutating func writeDigits(_ number: UInt64) {
        guard number >= 10 else {
            bytes.append(UInt8(ascii: "0") + UInt8(number))
            return
        }
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes: enough for 20 digits
        var count = 0
        var rest = number
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[31 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            bytes.append(contentsOf: buffer[(32 - count)...])
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func writeEscaped(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated()
            where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(contentsOf: [
                        UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hexDigits[Int(byte >> 4)],
                        Self.hexDigits[Int(byte & 0xF)],
                    ])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
