/// Any JSON value, kept as given (CreateSession's `parameters`).
public indirect enum JSONValue: Codable, Sendable, Hashable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        if let strict = decoder as? any JSONNodeDecoder {
            self = try JSONValue(strict.node, path: strict.codingPath)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// The value of a strictly parsed node; a number too large for a `Double` is refused with its field.
    init(_ node: JSONNode, path: [any CodingKey]) throws(StrictJSONError) {
        switch node {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .string(let s): self = .string(s)
        case .number(let text):
            guard let n = Double(text), n.isFinite else {
                throw StrictJSONError(.value, path: StrictJSONError.path(path), "is out of range for a number")
            }
            self = .number(n)
        case .array(let elements):
            var out: [JSONValue] = []
            out.reserveCapacity(elements.count)
            for element in elements { out.append(try JSONValue(element, path: path)) }
            self = .array(out)
        case .object(let members, _):
            var out: [String: JSONValue] = [:]
            for (key, value) in members { out[key] = try JSONValue(value, path: path) }
            self = .object(out)
        }
    }

    /// Encodes the value as it was.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
