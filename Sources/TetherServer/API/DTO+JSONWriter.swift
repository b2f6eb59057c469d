import Hummingbird
import TetherCore
import TetherStore

// The bodies of the API's busiest answers (ApplyConcurrent, CreateSession, DestroySession, GetSession) written
// with `JSONWriter` instead of `JSONEncoder`: the same members (absent when `nil`), a tenth of the CPU. A
// session with `parameters` or measured stats (numbers with fractions) still goes through `JSONEncoder`,
// which formats doubles. BackendAPITests compare both encodings.

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

extension Applied: ResponseGenerator {
    /// ApplyConcurrent's answer.
    public func response(from request: Request, context: some RequestContext) -> Response {
        var w = JSONWriter(capacity: 96)
        w.beginObject()
        w.field("concurrencyId", concurrencyId)
        w.field("reused", reused)
        w.field("reservedUntil", reservedUntil)
        w.endObject()
        return w.response()
    }
}

extension CreatedSessionDTO: ResponseGenerator {
    /// CreateSession's answer.
    func response(from request: Request, context: some RequestContext) -> Response {
        var w = JSONWriter(capacity: 640)
        writeJSON(into: &w)
        return w.response()
    }

    /// Writes the answer as a JSON object.
    func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("sessionId", sessionId)
        w.field("userId", userId)
        w.field("concurrencyId", concurrencyId)
        w.field("epoch", epoch)
        w.field("state", state)
        w.field("clientToken", clientToken)
        w.key("connect")
        w.beginObject()
        w.field("websocket", connect.websocket)
        w.field("tcp", connect.tcp)
        w.field("http", connect.http)
        w.endObject()
        w.key("heartbeat")
        w.beginObject()
        w.field("intervalMs", heartbeat.intervalMs)
        w.field("timeoutMs", heartbeat.timeoutMs)
        w.endObject()
        w.field("reconnectGraceMs", reconnectGraceMs)
        w.endObject()
    }
}

extension SessionDTO: ResponseGenerator {
    /// A session.
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var w = JSONWriter(capacity: 768)
        guard writeJSON(into: &w) else {
            return try context.responseEncoder.encode(self, from: request, context: context)
        }
        return w.response()
    }

    /// Writes the session as a JSON object; `false` (and nothing written) when it has parameters or measured
    /// stats, which `JSONEncoder` must format.
    func writeJSON(into w: inout JSONWriter) -> Bool {
        guard parameters == nil, stats.rttMs.p50 == nil, stats.rttMs.p99 == nil, stats.jitterMs == nil,
            stats.lossRate == nil
        else { return false }
        w.beginObject()
        w.field("sessionId", sessionId)
        w.field("projectId", projectId)
        w.field("userId", userId)
        w.field("concurrencyId", concurrencyId)
        w.field("epoch", epoch)
        w.field("state", state)
        w.field("endReason", endReason)
        w.field("lastCause", lastCause)
        w.field("deadlineAt", deadlineAt)
        w.field("createdAt", createdAt)
        w.field("updatedAt", updatedAt)
        w.field("endedAt", endedAt)
        w.field("lastHeartbeatAt", lastHeartbeatAt)
        w.field("transport", transport)
        w.field("userIp", userIp)
        w.field("clientSession", clientSession)
        w.field("runMode", runMode)
        w.key("history")
        w.beginArray()
        for entry in history { entry.writeJSON(into: &w) }
        w.endArray()
        w.key("stats")
        w.beginObject()
        w.key("rttMs")
        w.beginObject()
        w.endObject()
        w.field("heartbeats", stats.heartbeats)
        w.endObject()
        w.endObject()
        return true
    }
}
