import Hummingbird
import NIOConcurrencyHelpers

/// The backend API's responder on a node of a cluster: the node's HTTP server stays bound for the node's whole
/// life while its part changes (owner, follower), and each request goes to the responder of the phase in force.
/// A request that arrives between two phases waits for the next one (up to ``waitMs``), then is answered 503.
final class SwitchingResponder: HTTPResponder, Sendable {
    typealias Context = TetherRequestContext
    typealias Respond = @Sendable (Request, TetherRequestContext) async throws -> Response

    private let current = NIOLockedValueBox<(respond: Respond?, owner: Bool)>((nil, false))
    /// How long a request waits for a phase.
    let waitMs: Int

    init(waitMs: Int = 10_000) { self.waitMs = waitMs }

    /// Routes requests to `router` from now on (nil: between phases); `owner`: it is the owner's (the broker's).
    func serve(_ router: Router<TetherRequestContext>?, owner: Bool = false) {
        var respond: Respond?
        if let responder = router?.buildResponder() {
            respond = { request, context in try await responder.respond(to: request, context: context) }
        }
        current.withLockedValue { $0 = (respond, owner && respond != nil) }
    }

    /// Whether requests go to the owner's router now (a follower's call waiting for an owner may then be sent
    /// to this very node).
    var servesOwner: Bool { current.withLockedValue { $0.owner } }

    func respond(to request: Request, context: TetherRequestContext) async throws -> Response {
        var waited = 0
        while true {
            if let respond = current.withLockedValue({ $0.respond }) { return try await respond(request, context) }
            guard waited < waitMs else { break }
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
