import Hummingbird
import TetherProtocol

// The API's answers as Hummingbird responses, all through the request context's encoder
// (``TetherResponseEncoder``: `JSONWriter` for the ``JSONWritable`` bodies, else `JSONEncoder`).

extension JSONWriter {
    /// A JSON response with this body.
    func response(status: HTTPResponse.Status = .ok) -> Response {
        let body = bytes
        var headers = HTTPFields()
        headers.reserveCapacity(4)
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentLength] = String(body.count)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension TetherAPI.Project: ResponseEncodable {}
extension TetherAPI.ProjectList: ResponseEncodable {}
extension TetherAPI.SessionList: ResponseEncodable {}
extension TetherAPI.ConcurrencyCount: ResponseEncodable {}
extension TetherAPI.PoolHistory: ResponseEncodable {}
extension TetherAPI.Applied: ResponseEncodable {}
extension TetherAPI.CreatedSession: ResponseEncodable {}
extension TetherAPI.Session: ResponseEncodable {}
extension TetherAPI.EventPage: ResponseEncodable {}
extension TetherAPI.Queued: ResponseEncodable {}
extension TetherAPI.QueueList: ResponseEncodable {}
extension TetherAPI.QueueTicket: ResponseEncodable {}
