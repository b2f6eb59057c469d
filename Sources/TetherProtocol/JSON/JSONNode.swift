/// A JSON value as ``StrictJSONParser`` read it: numbers keep their text, so that an integer field can refuse
/// `1.0` or `1e0` and say why, and objects have no repeated member names.
public indirect enum JSONNode: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as written (RFC 8259 §6 grammar).
    case number(String)
    /// A string, unescaped.
    case string(String)
    /// An array.
    case array([JSONNode])
    /// An object: its members by name, and the names in the order written.
    case object([String: JSONNode], keys: [String])

    /// What kind of value this is, for messages ("a string", "an object").
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
