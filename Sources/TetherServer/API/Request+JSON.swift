import Foundation
import Hummingbird
import TetherCore
import TetherStore

extension Request {
    /// Reads the body (at most ``APILimits/maxBodyBytes``) and decodes it, turning every decoding failure
    /// into an ``APIError`` that names the field.
    func decodeJSON<T: Decodable>(_ type: T.Type) async throws -> T {
        let request = self
        let buffer = try await request.body.collect(upTo: APILimits.maxBodyBytes)
        guard buffer.readableBytes > 0 else { throw APIError.invalidParameter("body", "a JSON object is required") }
        if let fast = T.self as? any FastDecodable.Type,
            let value = buffer.readableBytesView.withContiguousStorageIfAvailable({ bytes -> T? in
                var reader = JSONReader(bytes)
                guard let value = fast.read(&reader), reader.atEnd() else { return nil }
                return value as? T
            }) ?? nil
        {
            return value
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        }
    }
}

extension APIError {
    /// Names the field a decoding error is about.
    init(decoding error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String {
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
        switch error {
        case .keyNotFound(let key, let context):
            self = .invalidParameter(path(context.codingPath + [key]), "is required")
        case .valueNotFound(_, let context):
            self = .invalidParameter(path(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            self = .invalidValue(path(context.codingPath), "must be \(Self.jsonKind(of: type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self = .invalidParameter("body", "is not valid JSON")
            } else {
                self = .invalidValue(path(context.codingPath), "is not a valid value")
            }
        @unknown default:
            self = .invalidParameter("body", "could not be read")
        }
    }

    private static func jsonKind(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is UInt64.Type: "an integer"
        case is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}
