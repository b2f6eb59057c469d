/// Why a JSON text or one of its values was refused. `path` names the field (`body` for the whole text,
/// `heartbeat.intervalMs`, `tags[2]`), `problem` says what is wrong with it.
public struct StrictJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of refusal it is.
    public enum Kind: Sendable, Hashable {
        /// The text is not RFC 8259 JSON (or is nested too deep, or repeats a member name).
        case syntax
        /// A required member is absent.
        case missing
        /// A value of the wrong kind, `null` where none is allowed, or a number out of range.
        case value
    }

    /// What kind of refusal it is.
    public var kind: Kind
    /// The field: `body`, `name`, `heartbeat.intervalMs`, `tags[2]`.
    public var path: String
    /// What is wrong, for people: "must be an integer", "appears twice".
    public var problem: String

    /// Creates an error.
    public init(_ kind: Kind, path: String, _ problem: String) {
        self.kind = kind
        self.path = path
        self.problem = problem
    }

    /// `path: problem`.
    public var description: String { "\(path): \(problem)" }

    /// The path of `keys` below the root, `body` for the root itself.
    public static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let i = key.intValue {
                out += "[\(i)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out.isEmpty ? "body" : out
    }
}
