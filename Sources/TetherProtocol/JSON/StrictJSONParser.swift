/// Parses JSON text exactly as RFC 8259 defines it, and refuses everything else with the field's name:
/// no byte-order mark, no trailing commas, no comments, no `NaN`, no leading zeros or `+`, no control
/// characters or invalid UTF-8 in strings, no unpaired surrogate escapes, no repeated member names (§4 leaves
/// their meaning open, so they are refused), and at most ``maxDepth`` nested arrays and objects (§9 lets a
/// parser set that limit; it bounds the stack an attacker can make the server use).
public struct StrictJSONParser {
    /// The deepest nesting of arrays and objects accepted.
    public static let maxDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    /// Where the parser is, for messages: member names and array indices from the root.
    private var path: [PathComponent] = []

    private enum PathComponent {
        case key(String)
        case index(Int)
    }

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The value of a whole JSON text.
    public static func parse(_ text: some Collection<UInt8>) throws(StrictJSONError) -> JSONNode {
        let result: Result<JSONNode, StrictJSONError>? = text.withContiguousStorageIfAvailable { buffer in
            Self.parse(UnsafeRawBufferPointer(buffer))
        }
        let outcome = result ?? Array(text).withUnsafeBytes { Self.parse($0) }
        return try outcome.get()
    }

    private static func parse(_ raw: UnsafeRawBufferPointer) -> Result<JSONNode, StrictJSONError> {
        var parser = StrictJSONParser(raw)
        do throws(StrictJSONError) {
            if raw.count >= 3, raw[0] == 0xEF, raw[1] == 0xBB, raw[2] == 0xBF {
                throw StrictJSONError(.syntax, path: "body", "starts with a byte-order mark, which RFC 8259 forbids")
            }
            parser.skipWhitespace()
            guard parser.index < raw.count else { throw parser.syntax("is empty: a JSON value is required") }
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.index == raw.count else { throw parser.syntax("has text after the JSON value") }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    // MARK: - Errors

    private var pathText: String {
        var out = ""
        for component in path {
            switch component {
            case .key(let k): out += out.isEmpty ? k : ".\(k)"
            case .index(let i): out += "[\(i)]"
            }
        }
        return out.isEmpty ? "body" : out
    }

    /// A syntax error at the current byte, on the field being read.
    private func syntax(_ problem: String) -> StrictJSONError {
        StrictJSONError(.syntax, path: pathText, "is not valid JSON: \(problem) (byte \(index))")
    }

    private func unexpected(_ expected: String) -> StrictJSONError {
        guard index < bytes.count else { return syntax("the text ends where \(expected) is expected") }
        let byte = bytes[index]
        let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(hex(byte))"
        return syntax("\(shown) where \(expected) is expected")
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    // MARK: - Grammar

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(StrictJSONError) -> JSONNode {
        skipWhitespace()
        guard index < bytes.count else { throw unexpected("a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw unexpected("a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(StrictJSONError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw unexpected("a value") }
        for k in 0..<count where bytes[index + k] != word.utf8Start[k] { throw unexpected("a value") }
        index += count
    }

    private func tooDeep() -> StrictJSONError {
        // The outermost member it happened in (a path 64 levels long would be no help).
        var field = "body"
        if case .key(let k) = path.first { field = k }
        return StrictJSONError(.syntax, path: field, "is nested deeper than \(Self.maxDepth) levels")
    }

    private mutating func object(depth: Int) throws(StrictJSONError) -> JSONNode {
        guard depth <= Self.maxDepth else { throw tooDeep() }
        index += 1  // {
        var members: [String: JSONNode] = [:]
        var keys: [String] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members, keys: keys)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw unexpected(keys.isEmpty ? "a member name or '}'" : "a member name after ','")
            }
            let key = try string()
            path.append(.key(key))
            guard members[key] == nil else {
                throw StrictJSONError(.syntax, path: pathText, "appears twice in the same object")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw unexpected("':'") }
            index += 1
            members[key] = try value(depth: depth)
            keys.append(key)
            path.removeLast()
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or '}'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw unexpected("',' or '}'") }
            index += 1
            return .object(members, keys: keys)
        }
    }

    private mutating func array(depth: Int) throws(StrictJSONError) -> JSONNode {
        guard depth <= Self.maxDepth else { throw tooDeep() }
        index += 1  // [
        var elements: [JSONNode] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            path.append(.index(elements.count))
            skipWhitespace()
            guard index < bytes.count, bytes[index] != UInt8(ascii: "]"), bytes[index] != UInt8(ascii: ",") else {
                throw unexpected(elements.isEmpty ? "a value" : "a value after ','")
            }
            elements.append(try value(depth: depth))
            path.removeLast()
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or ']'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw unexpected("',' or ']'") }
            index += 1
            return .array(elements)
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as written.
    private mutating func number() throws(StrictJSONError) -> String {
        let start = index
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { throw unexpected("a digit") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if isDigit(index) { throw syntax("a number with a leading zero") }
        } else {
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { throw unexpected("a digit after '.'") }
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard isDigit(index) else { throw unexpected("a digit in the exponent") }
            while isDigit(index) { index += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// A string from its opening quote, unescaped; its bytes must be valid UTF-8.
    private mutating func string() throws(StrictJSONError) -> String {
        index += 1  // "
        var out: [UInt8] = []
        var runStart = index
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                index += 1
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw StrictJSONError(.syntax, path: pathText, "is not valid JSON: a string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
                index += 1
                try escape(into: &out)
                runStart = index
            case 0..<0x20:
                throw syntax("a control character inside a string (escape it)")
            default:
                index += 1
            }
        }
        throw syntax("a string is not closed")
    }

    private mutating func escape(into out: inout [UInt8]) throws(StrictJSONError) {
        guard index < bytes.count else { throw syntax("a string is not closed") }
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
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                else { throw syntax("an unpaired surrogate escape") }
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw syntax("an unpaired surrogate escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw syntax("an unpaired surrogate escape") }
            out.append(contentsOf: String(Character(unicode)).utf8)
        default:
            index -= 1
            throw syntax("an unknown escape '\\\(Character(Unicode.Scalar(escape)))'")
        }
    }

    private mutating func hex4() throws(StrictJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw syntax("a string is not closed") }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw syntax("\\u needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
