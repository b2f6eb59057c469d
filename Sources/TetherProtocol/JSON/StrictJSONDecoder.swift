/// Decodes `Decodable` values from JSON text read by ``StrictJSONParser``, strictly: an integer field takes
/// only an integer written as one (`2`, not `2.0`, `2e0` or `2.5`) that fits its type; a string field only a
/// string; an optional member may be absent but not `null` (a type that gives `null` a meaning asks
/// `decodeNil(forKey:)` first, as a PATCH's "remove" does). Every refusal is a ``StrictJSONError`` that names
/// the field.
public struct StrictJSONDecoder: Sendable {
    /// Whether `null` for an optional member means "absent" (for the server's own records, whose writer may
    /// spell an absent value `null`), instead of being refused (for everything a client sends).
    public var nullMeansAbsent: Bool

    /// Creates a decoder; `null` for an optional member is refused unless `nullMeansAbsent`.
    public init(nullMeansAbsent: Bool = false) {
        self.nullMeansAbsent = nullMeansAbsent
    }

    /// The value of the JSON text `bytes`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws(StrictJSONError) -> T {
        try decode(type, from: StrictJSONParser.parse(bytes))
    }

    /// The value of an already parsed JSON value.
    public func decode<T: Decodable>(_ type: T.Type, from node: JSONNode) throws(StrictJSONError) -> T {
        do {
            return try T(from: NodeDecoder(node, path: [], nullMeansAbsent: nullMeansAbsent))
        } catch let error as StrictJSONError {
            throw error
        } catch let error as DecodingError {
            throw StrictJSONError(error)
        } catch {
            throw StrictJSONError(.value, path: "body", "could not be read: \(error)")
        }
    }
}

/// A decoder that can hand out the parsed value itself (for types that keep any JSON, such as `parameters`).
public protocol JSONNodeDecoder: Decoder {
    /// The value being decoded.
    var node: JSONNode { get }
}

extension StrictJSONError {
    /// The same refusal, from a `DecodingError` that a type's own `init(from:)` threw.
    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self.init(.missing, path: Self.path(context.codingPath + [key]), "is required")
        case .valueNotFound(_, let context):
            self.init(.value, path: Self.path(context.codingPath), "must not be null")
        case .typeMismatch(_, let context):
            self.init(.value, path: Self.path(context.codingPath), context.debugDescription)
        case .dataCorrupted(let context):
            self.init(.value, path: Self.path(context.codingPath), "is not a valid value: \(context.debugDescription)")
        @unknown default:
            self.init(.value, path: "body", "could not be read")
        }
    }
}

/// The `Decoder` over one ``JSONNode``.
struct NodeDecoder: JSONNodeDecoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    let nullMeansAbsent: Bool
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ node: JSONNode, path: [any CodingKey], nullMeansAbsent: Bool) {
        self.node = node
        self.codingPath = path
        self.nullMeansAbsent = nullMeansAbsent
    }

    /// The decoder of a value inside this one.
    func child(_ node: JSONNode, _ key: any CodingKey) -> NodeDecoder {
        NodeDecoder(node, path: codingPath + [key], nullMeansAbsent: nullMeansAbsent)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members, let keys) = node else { throw mismatch("an object") }
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(decoder: self, members: members, keys: keys))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node else { throw mismatch("an array") }
        return NodeUnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func mismatch(_ expected: String) -> StrictJSONError {
        StrictJSONError(.value, path: StrictJSONError.path(codingPath), "must be \(expected), not \(node.kind)")
    }

    // MARK: - Scalars

    func bool() throws -> Bool {
        guard case .bool(let b) = node else { throw mismatch("a boolean") }
        return b
    }

    func string() throws -> String {
        guard case .string(let s) = node else { throw mismatch("a string") }
        return s
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .number(let text) = node else { throw mismatch("an integer") }
        let field = StrictJSONError.path(codingPath)
        let shown = text.count > 32 ? String(text.prefix(32)) + "…" : text
        guard
            !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            )
        else {
            throw StrictJSONError(
                .value, path: field, "must be an integer without a fraction or an exponent, not \(shown)")
        }
        guard let value = T(text, radix: 10) else {
            throw StrictJSONError(.value, path: field, "must be an integer from \(T.min) to \(T.max), not \(shown)")
        }
        return value
    }

    func floating<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type) throws -> T {
        guard case .number(let text) = node else { throw mismatch("a number") }
        guard let value = T(text), value.isFinite else {
            throw StrictJSONError(.value, path: StrictJSONError.path(codingPath), "is out of range for a number")
        }
        return value
    }

    func value<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: self)
    }
}

extension NodeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { node == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try bool() }
    func decode(_ type: String.Type) throws -> String { try string() }
    func decode(_ type: Double.Type) throws -> Double { try floating(Double.self) }
    func decode(_ type: Float.Type) throws -> Float { try floating(Float.self) }
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try value(type) }
}
