import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A follower's backend API: every call it does not answer itself goes to the node that owns the cluster's
/// lease, over HTTP or HTTPS (AsyncHTTPClient), and the owner's answer comes back as it is, status, headers and body
/// (streamed: an SSE stream of events is forwarded as it goes). So any node answers any call with the owner's
/// answer, and a change one node acknowledged is seen by the next call to any node.
///
/// A call is forwarded once: a call that arrives forwarded (`X-Tether-Forwarded-By`) at a node that does not own
/// the lease (two nodes that disagree for a moment on who owns it) is answered 503 `InternalError.Store`
/// instead of going round. With no owner known (a takeover under way, the database out of reach) the answer
/// is the same 503 with a `Retry-After`.
struct ForwardingMiddleware: RouterMiddleware {
    typealias Context = TetherRequestContext

    /// Where calls go: the owner's `host:port`, or nil when none is known.
    let owner: @Sendable () -> (host: String, port: Int)?
    /// This node's id, named in the forwarded request.
    let nodeId: String
    /// Paths this node answers itself.
    let local: Set<String>
    let http: HTTPClient
    /// `http` or `https`: the nodes' backend APIs speak TLS when this one does.
    let scheme: String
    /// How long a call waits for an owner to be known and to answer the connection (a takeover under way).
    let waitMs: Int64

    static let forwardedBy = HTTPField.Name("X-Tether-Forwarded-By")!

    static let noOwner = APIError(
        .serviceUnavailable, code: "InternalError.Store",
        message: "no node owns the cluster now (a takeover, or the database out of reach): try again shortly",
        retryAfterMs: 1_000)

    /// The request to the owner: method, path and query, headers but the hop-by-hop ones, the body.
    func forwarding(
        _ request: Request, _ body: ByteBuffer, to owner: (host: String, port: Int), _ context: Context
    ) -> HTTPClientRequest {
        var forwarded = HTTPClientRequest(url: "\(scheme)://\(owner.host):\(owner.port)\(request.uri.string)")
        forwarded.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            forwarded.headers.add(name: field.name.rawName, value: field.value)
        }
        // The client's `Host` goes on as it came (AsyncHTTPClient keeps a given one): a CAR call's signature
        // covers it (`POST /`, TC3-HMAC-SHA256).
        if let authority = request.head.authority { forwarded.headers.replaceOrAdd(name: "Host", value: authority) }
        forwarded.headers.add(name: Self.forwardedBy.rawName, value: nodeId)
        forwarded.headers.replaceOrAdd(name: "X-Request-Id", value: context.requestId)
        if body.readableBytes > 0 || request.method == .post || request.method == .put || request.method == .patch {
            forwarded.body = .bytes(body)
        }
        return forwarded
    }

    /// Whether the call certainly never reached the owner: its connection could not be made.
    static func neverSent(_ error: any Error) -> Bool {
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
        if error is NIOConnectionError { return true }
        if let error = error as? HTTPClientError { return error == .connectTimeout }
        if let error = error as? ChannelError, case .connectTimeout = error { return true }
        return false
    }
    /// Headers that belong to one hop (RFC 9110 §7.6.1), not forwarded either way.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host",
        "content-length",
    ]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if local.contains(request.uri.path) { return try await next(request, context) }
        guard request.headers[Self.forwardedBy] == nil else { throw Self.noOwner }
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        // A takeover under way: wait for the next owner, and retry a call whose connection the owner refused
        // (it was never sent). A call that may have reached the owner is never sent twice.
        TetherMetrics.forwarded()
        let deadline = ContinuousClock.now + .milliseconds(waitMs)
        var response: HTTPClientResponse?
        while response == nil {
            guard let owner = owner() else {
                guard ContinuousClock.now < deadline else { throw Self.noOwner }
                try await Task.sleep(for: .milliseconds(50))
                continue
            }
            do {
                response = try await http.execute(forwarding(request, body, to: owner, context), timeout: .seconds(30))
            } catch  where Self.neverSent(error) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                throw APIError(
                    .serviceUnavailable, code: "InternalError.Store",
                    message: "the node that owns the cluster did not answer: try again shortly", retryAfterMs: 1_000)
            }
        }
        guard let response else { throw Self.noOwner }
        var headers = HTTPFields()
        for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
            if let name = HTTPField.Name(name) { headers.append(HTTPField(name: name, value: value)) }
        }
        let status = HTTPResponse.Status(code: Int(response.status.code))
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length <= 1 << 20 {
            let bytes = try await response.body.collect(upTo: length)
            return Response(status: status, headers: headers, body: .init(byteBuffer: bytes))
        }
        // A stream (events over SSE) is forwarded as it comes, and ends when this node shuts down or changes its
        // part (a frozen owner would otherwise hold the stream, and the follower's shutdown, for ever).
        let stream = response.body
        return Response(
            status: status, headers: headers,
            body: ResponseBody { writer in
                for try await chunk in stream.cancelOnGracefulShutdown() { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }
}
