import Hummingbird
import TetherCore
import TetherProtocol
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
            return try StrictJSONDecoder().decode(T.self, from: buffer.readableBytesView)
        } catch {
            throw APIError(json: error)
        }
    }
}

extension APIError {
    /// The contract's answer to a refused body: `InvalidParameter` for text that is not JSON or a missing
    /// field, `InvalidParameterValue` for a value of the wrong kind or out of range; the message names the
    /// field.
    init(json error: StrictJSONError) {
        switch error.kind {
        case .syntax, .missing: self = .invalidParameter(error.path, error.problem)
        case .value: self = .invalidValue(error.path, error.problem)
        }
    }
}
