import Hummingbird
import TetherCore
import TetherProtocol
import TetherStore

/// The backend API's request decoder, plugged into Hummingbird as ``TetherRequestContext``'s
/// `requestDecoder` (so a route says `request.decode(as:context:)`): reads the body up to
/// ``APILimits/maxBodyBytes``, takes the hand-written fast path where a body type has one
/// (``FastDecodable``: it gives up on anything unusual), and otherwise decodes with ``StrictJSONDecoder``;
/// every refusal is an ``APIError`` that names the field.
struct StrictRequestDecoder: RequestDecoder {
    func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
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
