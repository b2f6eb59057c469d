import Foundation
import Hummingbird
import TetherProtocol

/// The backend API's response encoder, plugged into Hummingbird as ``TetherRequestContext``'s
/// `responseEncoder` (so a route returns a body and `ResponseEncodable` does the rest): a body that is
/// ``JSONWritable`` is written by `JSONWriter` (a tenth of `JSONEncoder`'s CPU on the busiest answers,
/// docs/PERFORMANCE.md), anything else, or a body that declines, by `JSONEncoder`.
struct TetherResponseEncoder: ResponseEncoder {
    func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        if let writable = value as? any JSONWritable {
            var w = JSONWriter(capacity: 768)
            if writable.writeJSON(to: &w) { return w.response() }
        }
        return try JSONEncoder().encode(value, from: request, context: context)
    }
}
