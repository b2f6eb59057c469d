import Foundation
import Hummingbird
import TetherCore
import TetherProtocol
import TetherStore

extension BackendAPI {
    func addSessionRoutes(to router: RouterGroup<TetherRequestContext>) {
        router.post("/projects/:projectId/concurrency/apply") { request, context -> Response in
            let id = try context.project()
            let body = try await request.decode(as: TetherAPI.ApplyRequest.self, context: context)
            guard body.queue == true else {
                // A priority without `queue: true` orders nothing: ignored, but its range is checked as the schema says.
                if let priority = body.priority, !Limits.queuePriority.contains(priority) {
                    throw APIError(
                        BrokerError.invalidParameter(
                            field: "priority", message: "must be between 0 and 9, got \(priority)"))
                }
                guard
                    case .applied(let applied) = try await service.execute(
                        .apply(id, userId: body.userId, userIp: body.userIp))
                else { throw APIError.unexpected }
                return try TetherAPI.Applied(applied).response(from: request, context: context)
            }
            return try await applyQueued(id, body).response(from: request, context: context)
        }
        router.post("/projects/:projectId/sessions") { request, context -> EditedResponse<TetherAPI.CreatedSession> in
            let id = try context.project()
            let body = try await request.decode(as: TetherAPI.CreateSessionRequest.self, context: context)
            var parameters: String?
            if let p = body.parameters {
                parameters = String(decoding: try JSONEncoder().encode(p), as: UTF8.self)
            }
            let metadata = SessionMetadata(
                userIp: body.userIp, clientSession: body.clientSession, runMode: body.runMode, parameters: parameters)
            let command = Command.createSession(
                id, userId: body.userId, sessionId: Self.newSessionID(), metadata: metadata)
            guard case .session(let s) = try await service.execute(command) else { throw APIError.unexpected }
            let project = try service.read { broker throws(BrokerError) in try broker.project(id) }
            return EditedResponse(status: .created, response: created(s, project: project))
        }
        router.get("/projects/:projectId/sessions") { request, context in
            let id = try context.project()
            var state: SessionState?
            if let raw = request.uri.queryParameters["state"] {
                guard let parsed = SessionState(rawValue: String(raw)) else {
                    throw APIError.invalidValue(
                        "state", "must be one of \(SessionState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                state = parsed
            }
            if state == .ended {
                _ = try service.read { broker throws(BrokerError) in try broker.project(id) }
                let ended = try await store.sessions(in: id, state: .ended, limit: 1_000)
                return TetherAPI.SessionList(sessions: ended.map { TetherAPI.Session($0) })
            }
            let live = try service.read { broker throws(BrokerError) in try broker.sessions(in: id, state: state)
            }
            let intervalMs = try service.read { broker throws(BrokerError) in
                try broker.project(id).policy.heartbeat.intervalMs
            }
            return TetherAPI.SessionList(
                sessions: live.map { withLiveness(TetherAPI.Session($0), of: $0, intervalMs: intervalMs) })
        }
        router.get("/sessions/:sessionId") { _, context in
            let id = try context.path("sessionId")
            if let live = service.read({ $0.session(id) }) {
                guard context.scope.sees(live.projectId) else { throw BrokerError.sessionNotFound(id) }
                let intervalMs = service.read { try? $0.project(live.projectId) }?.policy.heartbeat.intervalMs
                return withLiveness(
                    TetherAPI.Session(live, stats: stats.snapshot(of: id) ?? .empty), of: live,
                    intervalMs: intervalMs ?? .max)
            }
            guard let stored = try await store.session(id), context.scope.sees(stored.projectId) else {
                throw BrokerError.sessionNotFound(id)
            }
            return TetherAPI.Session(stored)
        }
        router.delete("/sessions/:sessionId") { _, context in
            let id = try context.path("sessionId")
            // A session of a project the key does not see is not found, and is left alone.
            if let project = service.read({ $0.session(id)?.projectId }), !context.scope.sees(project) {
                throw BrokerError.sessionNotFound(id)
            }
            guard
                case .session(let s) = try await service.execute(
                    .destroySession(id), audit: context.audit(.sessionDestroy, id, at: time.now()))
            else {
                throw APIError.unexpected
            }
            return TetherAPI.Session(s)
        }
        router.delete("/projects/:projectId/users/:userId/session") { _, context in
            let id = try context.project()
            let user = try context.path("userId")
            guard
                case .session(let s) = try await service.execute(
                    .destroyUserSession(id, user),
                    audit: context.audit(.sessionDestroy, "\(id)/\(user)", at: time.now()))
            else {
                throw APIError.unexpected
            }
            return TetherAPI.Session(s)
        }
    }

    /// A new session id: `s-` and 128 random bits.
    static func newSessionID() -> SessionID {
        "s-" + Secrets.hex(Secrets.randomBytes(16))
    }

    func created(_ s: Session, project: Project) -> TetherAPI.CreatedSession {
        let token = signer.token(session: s.id, epoch: s.epoch, expiresAt: time.now() + Self.tokenLifetimeMs)
        return TetherAPI.CreatedSession(
            sessionId: s.id, userId: s.userId, concurrencyId: s.concurrencyId, epoch: s.epoch, state: s.state.rawValue,
            clientToken: token, connect: connect,
            heartbeat: .init(
                intervalMs: project.policy.heartbeat.intervalMs, timeoutMs: project.policy.heartbeat.timeoutMs),
            reconnectGraceMs: project.policy.reconnectGraceMs)
    }

    /// This node's client plane, where a client connects (CreateSession's and a queued apply's `connect`).
    var connect: TetherAPI.CreatedSession.Connect {
        configuration.schemes.connect(
            host: configuration.publicHost, clientPort: clientPort, tcpPort: configuration.tcpPort == 0 ? 0 : tcpPort)
    }

    /// Client tokens outlive any reasonable session; fencing by epoch is what retires them.
    static let tokenLifetimeMs: Millis = 7 * 24 * 3_600_000
}

extension BackendAPI {
    /// A connected session whose event loop watches its connection: the last heartbeat and the deadline are
    /// the loop's (the broker holds no heartbeat deadline for it).
    func withLiveness(_ dto: TetherAPI.Session, of session: Session, intervalMs: Millis) -> TetherAPI.Session {
        guard session.state == .connected else { return dto }
        var dto = dto
        if let connection = session.connection, let liveness = registry.liveness(of: connection),
            liveness.lastSeenAt != ClientLink.awaitingWelcome
        {
            dto.lastHeartbeatAt = liveness.lastSeenAt
            dto.deadlineAt = liveness.deadlineAt
        }
        if let heard = dto.lastHeartbeatAt {
            dto.suspect = Suspicion.isSuspect(lastHeardAt: heard, intervalMs: intervalMs, at: time.now())
        }
        return dto
    }
}
