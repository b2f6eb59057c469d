import Hummingbird
import TetherCore
import TetherProtocol

/// The body of `POST /demo/session`.
struct DemoSessionBody: Decodable, Sendable {
    var userId: String
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
        router.post("/demo/session") { request, context -> EditedResponse<DemoSessionDTO> in
            let body = try await request.decode(as: DemoSessionBody.self, context: context)
            let project = DemoMode.projectId
            guard
                case .applied(let applied) = try await service.execute(
                    .apply(project, userId: body.userId, userIp: nil))
            else { throw APIError.unexpected }
            let command = Command.createSession(
                project, userId: body.userId, sessionId: Self.newSessionID(),
                metadata: SessionMetadata(runMode: "demo"))
            guard case .session(let s) = try await service.execute(command) else { throw APIError.unexpected }
            let policy = try service.read { broker throws(BrokerError) in try broker.project(project) }
            return EditedResponse(
                status: .created, response: DemoSessionDTO(session: created(s, project: policy), reused: applied.reused)
            )
        }
    }
}
