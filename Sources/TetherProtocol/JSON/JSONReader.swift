/// Reads JSON text token by token: the records the store wrote (see ``JSONWriter``), small request bodies.
///
/// Every read returns `nil` (or `false`) on anything it does not expect, and the caller then falls back
/// to `StrictJSONDecoder`, which gives the authoritative answer or error. So the reader may be strict:
/// it accepts RFC 8259 JSON with integer numbers only (a fraction or an exponent makes it give up), and
/// gives up on a repeated member name and on nesting deeper than 64.
public struct JSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    /// A reader of `bytes`, which must outlive it.
    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Whether only whitespace is left.
    public mutating func atEnd() -> Bool {
        skipWhitespace()
        return index == bytes.count
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Consumes `{`.
    public mutating func beginObject() -> Bool { consume(UInt8(ascii: "{")) }

    /// Consumes `[`.
    public mutating func beginArray() -> Bool { consume(UInt8(ascii: "[")) }

    /// Inside an object: the next member's name (consuming `"name":`), `.some(nil)` after the closing `}`,
    /// `nil` on malformed input. `first` is whether no member was read yet.
    public mutating func nextKey(first: Bool) -> String?? {
        if consume(UInt8(ascii: "}")) { return .some(nil) }
        if !first && !consume(UInt8(ascii: ",")) { return nil }
        guard let key = string(), consume(UInt8(ascii: ":")) else { return nil }
        return .some(key)
    }

    /// Inside an array: whether another element follows (consuming the `,`); `nil` on malformed input, `false`
    /// after the closing `]`.
    public mutating func nextElement(first: Bool) -> Bool? {
        if consume(UInt8(ascii: "]")) { return false }
        if !first && !consume(UInt8(ascii: ",")) { return nil }
        return true
    }

    /// Consumes `null` if it comes next.
    public mutating func null() -> Bool {
        skipWhitespace()
        guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// Reads an object: `member` gets each key with the reader at its value, reads (or skips) the value and
    /// returns `false` to refuse the object. `false` also for a malformed object.
    public mutating func object(_ member: (inout JSONReader, String) -> Bool) -> Bool {
        guard beginObject() else { return false }
        var keys = SeenKeys()
        while true {
            guard let next = nextKey(first: keys.isEmpty) else { return false }
            guard let key = next else { return true }
            guard keys.insert(key), member(&self, key) else { return false }
        }
    }

    /// The member names of one object so far; a repeated one makes the reader give up.
    private struct SeenKeys {
        private var keys: [String] = []
        var isEmpty: Bool { keys.isEmpty }

        /// Adds `key`; `false` when it was already there.
        mutating func insert(_ key: String) -> Bool {
            guard !keys.contains(key) else { return false }
            keys.append(key)
            return true
        }
    }

    /// `null` as `.some(nil)`, a value that `read` reads as `.some(value)`, anything else as `nil`.
    public mutating func nullable<T>(_ read: (inout JSONReader) -> T?) -> T?? {
        if null() { return .some(nil) }
        guard let value = read(&self) else { return nil }
        return .some(value)
    }

    /// A boolean.
    public mutating func bool() -> Bool? {
        skipWhitespace()
        if index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "t"), bytes[index + 1] == UInt8(ascii: "r"),
            bytes[index + 2] == UInt8(ascii: "u"), bytes[index + 3] == UInt8(ascii: "e")
        {
            index += 4
            return true
        }
        if index + 5 <= bytes.count, bytes[index] == UInt8(ascii: "f"), bytes[index + 1] == UInt8(ascii: "a"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "s"),
            bytes[index + 4] == UInt8(ascii: "e")
        {
            index += 5
            return false
        }
        return nil
    }

    /// An integer that fits in `Int64`.
    public mutating func int64() -> Int64? {
        skipWhitespace()
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard let magnitude = digits() else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return Int64(exactly: magnitude)
    }

    /// An unsigned integer.
    public mutating func uint64() -> UInt64? {
        skipWhitespace()
        return digits()
    }

    /// An integer that fits in `Int`.
    public mutating func int() -> Int? { int64().flatMap { Int(exactly: $0) } }

    private mutating func digits() -> UInt64? {
        let start = index
        var value: UInt64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
            index += 1
        }
        let count = index - start
        guard count > 0, count == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        // A fraction or an exponent: not an integer for this reader.
        if index < bytes.count,
            bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")
        {
            return nil
        }
        return value
    }

    /// A string, unescaped.
    public mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                // Invalid UTF-8 is refused (as `JSONDecoder` does), not repaired.
                guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                else { return nil }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return escapedString(from: start) }
            if byte < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    /// The rest of a string that has escapes, from its first byte at `start`.
    private mutating func escapedString(from start: Int) -> String? {
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard consume(UInt8(ascii: "\\")), index < bytes.count, bytes[index] == UInt8(ascii: "u")
                        else { return nil }
                        index += 1
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default: return nil
                }
            default:
                guard byte >= 0x20 else { return nil }
                out.append(byte)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Skips one value of any kind (for members the record does not know, which `Decodable` ignores too).
    public mutating func skipValue(depth: Int = 0) -> Bool {
        guard depth < 64 else { return false }
        skipWhitespace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"):
            index += 1
            var keys = SeenKeys()
            while true {
                guard let next = nextKey(first: keys.isEmpty) else { return false }
                guard let key = next else { return true }
                guard keys.insert(key), skipValue(depth: depth + 1) else { return false }
            }
        case UInt8(ascii: "["):
            index += 1
            var first = true
            while true {
                guard let more = nextElement(first: first) else { return false }
                guard more else { return true }
                guard skipValue(depth: depth + 1) else { return false }
                first = false
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return bool() != nil
        case UInt8(ascii: "n"): return null()
        default: return int64() != nil
        }
    }
}
