import Hummingbird
import TetherCore
import TetherProtocol

/// The body of `POST /demo/session`.
struct DemoSessionBody: Decodable, Sendable {
    var userId: String
    /// Wait in the demo project's queue when it is full (202 with a queue token) instead of failing.
    var queue: Bool?
}

/// `POST /demo/session`'s answer: CreateSession's answer plus ApplyConcurrent's `reused`.
struct DemoSessionDTO: ResponseEncodable, Sendable {
    var session: TetherAPI.CreatedSession
    var reused: Bool

    private enum Keys: String, CodingKey { case reused }

    func encode(to encoder: any Encoder) throws {
        try session.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(reused, forKey: .reused)
    }
}

extension BackendAPI {
    /// Only with `--demo`: the demo page and an unauthenticated ApplyConcurrent + CreateSession for the
    /// demo project (what a real backend would do behind its own login).
    func addDemoRoutes(to router: Router<TetherRequestContext>) {
        router.get("/demo") { _, _ in assets.response("demo.html") }
        router.get("/demo/demo.js") { _, _ in assets.response("demo.js") }
        router.post("/demo/session") { request, context -> Response in
            let body = try await request.decode(as: DemoSessionBody.self, context: context)
            let project = DemoMode.projectId
            let apply: Command =
                body.queue == true
                ? .applyQueued(project, userId: body.userId, userIp: nil, priority: 0, ticketId: Self.newTicketID())
                : .apply(project, userId: body.userId, userIp: nil)
            let applied: Applied
            switch try await service.execute(apply) {
            case .applied(let a): applied = a
            case .queued(let place):
                // The pool is full: the page waits in the queue live with the token, then asks again.
                let token = signer.queueToken(
                    project: project, ticket: place.ticket.ticketId, expiresAt: time.now() + Self.queueTokenLifetimeMs)
                return try EditedResponse(
                    status: .accepted,
                    response: TetherAPI.Queued(
                        ticketId: place.ticket.ticketId, position: place.position, etaMs: place.etaMs,
                        queueToken: token,
                        connect: connect)
                ).response(from: request, context: context)
            default: throw APIError.unexpected
            }
            let command = Command.createSession(
                project, userId: body.userId, sessionId: Self.newSessionID(),
                metadata: SessionMetadata(runMode: "demo"))
            guard case .session(let s) = try await service.execute(command) else { throw APIError.unexpected }
            let policy = try service.read { broker throws(BrokerError) in try broker.project(project) }
            return try EditedResponse(
                status: .created, response: DemoSessionDTO(session: created(s, project: policy), reused: applied.reused)
            ).response(from: request, context: context)
        }
    }
}
