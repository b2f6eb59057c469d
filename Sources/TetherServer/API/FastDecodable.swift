import TetherProtocol
import TetherStore

/// A request body that can be read straight from the bytes in the usual case. `read` returns `nil` for
/// anything unusual (a missing, repeated, `null` or mistyped field, `parameters`), and `Request.decodeJSON`
/// then decodes with `StrictJSONDecoder`, which gives the contract's errors.
protocol FastDecodable: Decodable {
    /// The body, or `nil` to let `JSONDecoder` decide.
    static func read(_ reader: inout JSONReader) -> Self?
}

extension TetherAPI.ApplyRequest: FastDecodable {
    static func read(_ r: inout JSONReader) -> TetherAPI.ApplyRequest? {
        var userId: String?
        var userIp: String?
        let complete = r.object { r, key in
            switch key {
            case "userId":
                guard let v = r.string() else { return false }
                userId = v
            case "userIp":
                guard let v = r.string() else { return false }
                userIp = v
            case "queue", "priority":
                return false  // the queue's fields: JSONDecoder
            default:
                guard r.skipValue() else { return false }
            }
            return true
        }
        guard complete else { return nil }
        guard let userId else { return nil }
        return TetherAPI.ApplyRequest(userId: userId, userIp: userIp)
    }
}

extension TetherAPI.CreateSessionRequest: FastDecodable {
    static func read(_ r: inout JSONReader) -> TetherAPI.CreateSessionRequest? {
        var body = TetherAPI.CreateSessionRequest(userId: "")
        var sawUser = false
        let complete = r.object { r, key in
            switch key {
            case "userId":
                guard let v = r.string() else { return false }
                body.userId = v
                sawUser = true
            case "userIp", "clientSession", "runMode":
                guard let value = r.string() else { return false }
                switch key {
                case "userIp": body.userIp = value
                case "clientSession": body.clientSession = value
                default: body.runMode = value
                }
            case "parameters":
                return false  // any JSON value: JSONDecoder's `JSONValue`
            default:
                guard r.skipValue() else { return false }
            }
            return true
        }
        guard complete else { return nil }
        return sawUser ? body : nil
    }
}
