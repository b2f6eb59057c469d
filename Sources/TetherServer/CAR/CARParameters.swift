import TetherProtocol

/// A CAR action's body: a JSON object of PascalCase members, read strictly (RFC 8259; a repeated member, a
/// `null`, a value of the wrong kind is refused naming the field). A member the action does not take is
/// `UnknownParameter`; members CAR defines that have no meaning here (`ApplicationId`, …) are accepted and
/// ignored, as the action's `ignored` list says.
enum CARParameters {
    /// Parses `body` and decodes it as `T`, after checking its member names against `T.accepted` and `ignored`.
    static func decode<T: CARBody>(_ type: T.Type, from body: [UInt8]) throws -> T {
        let node: JSONNode
        do {
            node = try StrictJSONParser.parse(body.isEmpty ? Array("{}".utf8) : body)
        } catch {
            throw CARError.parameters(error)
        }
        guard case .object(_, let keys) = node else {
            throw CARError("InvalidParameter.JsonParseError", "body: must be a JSON object")
        }
        for key in keys where !T.accepted.contains(key) && !T.ignored.contains(key) {
            throw CARError("UnknownParameter", "\(key): not a parameter of this action")
        }
        do {
            return try StrictJSONDecoder().decode(T.self, from: node)
        } catch {
            throw CARError.parameters(error)
        }
    }
}

/// The body of one CAR action.
protocol CARBody: Decodable {
    /// The members it reads.
    static var accepted: Set<String> { get }
    /// Members of CAR's API it takes and ignores (they mean nothing here).
    static var ignored: Set<String> { get }
}

extension CARBody {
    static var ignored: Set<String> { [] }
}
