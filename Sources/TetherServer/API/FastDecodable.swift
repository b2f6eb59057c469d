import TetherStore

/// A request body that can be read straight from the bytes in the usual case. `read` returns `nil` for
/// anything unusual (a missing or mistyped field, an escape it cannot handle, `parameters`), and
/// `Request.decodeJSON` then decodes with `JSONDecoder`, which gives the contract's errors.
protocol FastDecodable: Decodable {
    /// The body, or `nil` to let `JSONDecoder` decide.
    static func read(_ reader: inout JSONReader) -> Self?
}

extension ApplyBody: FastDecodable {
    static func read(_ r: inout JSONReader) -> ApplyBody? {
        guard r.beginObject() else { return nil }
        var userId: String?
        var userIp: String?
        var first = true
        while true {
            guard let next = r.nextKey(first: first) else { return nil }
            guard let key = next else { break }
            first = false
            switch key {
            case "userId":
                guard let v = r.string() else { return nil }
                userId = v
            case "userIp":
                guard let v = r.nullable({ $0.string() }) else { return nil }
                userIp = v
            default:
                guard r.skipValue() else { return nil }
            }
        }
        guard let userId else { return nil }
        return ApplyBody(userId: userId, userIp: userIp)
    }
}

extension CreateSessionBody: FastDecodable {
    static func read(_ r: inout JSONReader) -> CreateSessionBody? {
        guard r.beginObject() else { return nil }
        var body = CreateSessionBody(userId: "")
        var sawUser = false
        var first = true
        while true {
            guard let next = r.nextKey(first: first) else { return nil }
            guard let key = next else { break }
            first = false
            switch key {
            case "userId":
                guard let v = r.string() else { return nil }
                body.userId = v
                sawUser = true
            case "userIp", "clientSession", "runMode":
                var value: String?
                if !r.null() {
                    guard let v = r.string() else { return nil }
                    value = v
                }
                switch key {
                case "userIp": body.userIp = value
                case "clientSession": body.clientSession = value
                default: body.runMode = value
                }
            case "parameters":
                return nil  // any JSON value: JSONDecoder's `JSONValue`
            default:
                guard r.skipValue() else { return nil }
            }
        }
        return sawUser ? body : nil
    }
}
