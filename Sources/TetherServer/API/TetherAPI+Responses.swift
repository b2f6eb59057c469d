import Hummingbird
import TetherProtocol

// The API's answers as Hummingbird responses: the busiest written with `JSONWriter` (TetherAPI+JSONWriter in
// TetherProtocol), the rest encoded by the context's encoder.

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

extension TetherAPI.Applied: ResponseGenerator {
    /// ApplyConcurrent's answer.
    public func response(from request: Request, context: some RequestContext) -> Response {
        var w = JSONWriter(capacity: 96)
        writeJSON(into: &w)
        return w.response()
    }
}

extension TetherAPI.CreatedSession: ResponseGenerator {
    /// CreateSession's answer.
    public func response(from request: Request, context: some RequestContext) -> Response {
        var w = JSONWriter(capacity: 640)
        writeJSON(into: &w)
        return w.response()
    }
}

extension TetherAPI.Session: ResponseGenerator {
    /// A session: by hand unless it has `parameters` or measured stats.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var w = JSONWriter(capacity: 768)
        guard writeJSON(into: &w) else {
            return try context.responseEncoder.encode(self, from: request, context: context)
        }
        return w.response()
    }
}

extension TetherAPI.EventPage: ResponseGenerator {
    /// A page of the feed.
    public func response(from request: Request, context: some RequestContext) -> Response {
        var w = JSONWriter(capacity: 64 + events.count * 320)
        writeJSON(into: &w)
        return w.response()
    }
}
