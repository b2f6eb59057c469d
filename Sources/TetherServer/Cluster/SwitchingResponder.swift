import Hummingbird
import NIOConcurrencyHelpers

/// The backend API's responder on a node of a cluster: the node's HTTP server stays bound for the node's whole
/// life while its part changes (owner, follower), and each request goes to the responder of the phase in force.
/// A request that arrives between two phases waits for the next one (up to ``waitMs``), then is answered 503;
/// `/healthz` (200) and `/readyz` (503) are answered at once, so a probe never hangs on a node changing parts.
final class SwitchingResponder: HTTPResponder, Sendable {
    typealias Context = TetherRequestContext
    /// The phase's router's responder, called as it is: wrapped in an `async` closure it cost ~1.2 ms of CPU
    /// per request (the closure's reabstraction thunks allocated frames for the whole request and context at
    /// every call: 1 228 GETs/s at 1.7 cores, now 7 117 at 0.75; docs/PERFORMANCE.md).
    typealias Phase = any HTTPResponder<TetherRequestContext>

    private let current = NIOLockedValueBox<(respond: Phase?, owner: Bool)>((nil, false))
    /// How long a request waits for a phase.
    let waitMs: Int

    init(waitMs: Int = 10_000) { self.waitMs = waitMs }

    /// Routes requests to `router` from now on (nil: between phases); `owner`: it is the owner's (the broker's).
    func serve(_ router: Router<TetherRequestContext>?, owner: Bool = false) {
        let respond: Phase? = router?.buildResponder()
        current.withLockedValue { $0 = (respond, owner && respond != nil) }
    }

    /// Whether requests go to the owner's router now (a follower's call waiting for an owner may then be sent
    /// to this very node).
    var servesOwner: Bool { current.withLockedValue { $0.owner } }

    func respond(to request: Request, context: TetherRequestContext) async throws -> Response {
        var waited = 0
        while true {
            if let phase = current.withLockedValue({ $0.respond }) {
                return try await phase.respond(to: request, context: context)
            }
            // A probe never waits: between parts the node is alive and not ready.
            if request.uri.path == "/healthz" {
                return Response(
                    status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
            }
            guard waited < waitMs, request.uri.path != "/readyz" else { break }
            try await Task.sleep(for: .milliseconds(10))
            waited += 10
        }
        var response = APIError(
            .serviceUnavailable, code: "InternalError.Store",
            message: "this node is changing its part in the cluster: try again shortly", retryAfterMs: 1_000
        ).response(requestId: context.requestId)
        response.headers[.requestId] = context.requestId
        return response
    }
}
