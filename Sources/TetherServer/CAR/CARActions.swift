import Foundation
import TetherCore
import TetherProtocol

/// The CAR actions, each the same broker command as its native route (API.md "CAR-compatible endpoint"); the
/// answer's fields, without `RequestId`.
extension BackendAPI {
    /// The actions Tether serves.
    static let carActions: Set<String> = [
        "ApplyConcurrent", "CreateSession", "DestroySession", "DescribeConcurrentCount", "CreateApplicationProject",
        "ModifyApplicationProject", "DeleteApplicationProjects", "DescribeApplicationProjects",
    ]

    /// CAR actions Tether does not have (stream push, application management): `UnsupportedOperation`.
    static let carUnsupported: Set<String> = [
        "StartPublishStream", "StartPublishStreamWithURL", "StopPublishStream", "CreateApplication",
        "DeleteApplication", "DescribeApplicationList", "ModifyApplicationBase", "CreateApplicationVersion",
        "DeleteApplicationVersion", "DescribeApplicationVersion", "ModifyApplicationVersion",
        "CreateApplicationSnapshot", "DescribeApplicationStatus", "DescribeApplicationFileInfo",
        "DescribeApplicationPathList", "ModifyApplicationProject.Stream",
    ]

    /// Runs `action` with `body` for the key in `context`.
    func carPerform(_ action: String, body: [UInt8], context: TetherRequestContext) async throws -> [String: JSONValue]
    {
        switch action {
        case "ApplyConcurrent":
            let p = try CARParameters.decode(CARBodies.Apply.self, from: body)
            guard context.scope.sees(p.ProjectId) else { throw BrokerError.projectNotFound(p.ProjectId) }
            guard case .applied = try await service.execute(.apply(p.ProjectId, userId: p.UserId, userIp: p.UserIp))
            else { throw APIError.unexpected }
            return [:]
        case "CreateSession":
            return try await carCreateSession(CARParameters.decode(CARBodies.CreateSession.self, from: body), context)
        case "DestroySession":
            let p = try CARParameters.decode(CARBodies.DestroySession.self, from: body)
            let projects = service.read { broker in
                broker.allProjects.map(\.id).filter {
                    context.scope.sees($0) && broker.session(of: p.UserId, in: $0) != nil
                }
            }
            guard !projects.isEmpty else {
                throw CARError("ResourceNotFound.SessionNotFound", "user '\(p.UserId)' has no live session")
            }
            for id in projects {
                _ = try await service.execute(
                    .destroyUserSession(id, p.UserId),
                    audit: context.audit(.sessionDestroy, "\(id)/\(p.UserId)", at: time.now()))
            }
            return [:]
        case "DescribeConcurrentCount":
            let p = try CARParameters.decode(CARBodies.Count.self, from: body)
            guard context.scope.sees(p.ProjectId) else { throw BrokerError.projectNotFound(p.ProjectId) }
            let count = try service.read { broker throws(BrokerError) in try broker.count(p.ProjectId) }
            return ["Total": .number(Double(count.total)), "Running": .number(Double(count.running))]
        case "CreateApplicationProject":
            try context.requireAdmin("creating a project")
            let p = try CARParameters.decode(CARBodies.CreateProject.self, from: body)
            let id = p.ProjectId ?? "cap-" + Secrets.hex(Secrets.randomBytes(6))
            let d = Policy()
            let policy = Policy(
                capacity: p.Capacity ?? d.capacity, heartbeat: d.heartbeat,
                reconnectGraceMs: try Self.carSeconds(p.ReconnectTimeout, "ReconnectTimeout") ?? d.reconnectGraceMs,
                reservationTtlMs: d.reservationTtlMs, connectTimeoutMs: d.connectTimeoutMs,
                maxSuspendMs: d.maxSuspendMs, webhook: nil, queue: d.queue, allowedOrigins: nil)
            _ = try await service.execute(
                .createProject(id: id, name: p.Name, policy: policy),
                audit: context.audit(.projectCreate, id, at: time.now()))
            return ["ProjectId": .string(id)]
        case "ModifyApplicationProject":
            let p = try CARParameters.decode(CARBodies.ModifyProject.self, from: body)
            guard context.scope.sees(p.ProjectId) else { throw BrokerError.projectNotFound(p.ProjectId) }
            let patch = ProjectPatch(
                name: p.Name, capacity: p.Capacity,
                reconnectGraceMs: try Self.carSeconds(p.ReconnectTimeout, "ReconnectTimeout"))
            _ = try await service.execute(
                .updateProject(p.ProjectId, patch), audit: context.audit(.projectUpdate, p.ProjectId, at: time.now()))
            return [:]
        case "DeleteApplicationProjects":
            try context.requireAdmin("deleting a project")
            let p = try CARParameters.decode(CARBodies.DeleteProjects.self, from: body)
            guard (1...100).contains(p.ProjectIds.count), Set(p.ProjectIds).count == p.ProjectIds.count else {
                throw CARError("InvalidParameterValue", "ProjectIds: 1 to 100 distinct ids")
            }
            // All or nothing: every project must exist before any is deleted.
            for id in p.ProjectIds {
                _ = try service.read { broker throws(BrokerError) in try broker.project(id) }
            }
            for id in p.ProjectIds {
                _ = try await service.execute(
                    .deleteProject(id), audit: context.audit(.projectDelete, id, at: time.now()))
                await webhooks.projectDeleted(id)
            }
            return [:]
        case "DescribeApplicationProjects":
            let p = try CARParameters.decode(CARBodies.DescribeProjects.self, from: body)
            let offset = p.Offset ?? 0
            let limit = p.Limit ?? 20
            guard offset >= 0 else { throw CARError("InvalidParameterValue", "Offset: must be at least 0") }
            guard (1...100).contains(limit) else { throw CARError("InvalidParameterValue", "Limit: 1 to 100") }
            let wanted = p.ProjectIds.map(Set.init)
            let all = service.read { $0.allProjects }.filter {
                context.scope.sees($0.id) && (wanted?.contains($0.id) ?? true)
            }
            let page = all.dropFirst(offset).prefix(limit).map { project -> JSONValue in
                .object([
                    "ProjectId": .string(project.id), "Name": .string(project.name),
                    "Capacity": .number(Double(project.policy.capacity)),
                    "ReconnectTimeout": .number(Double(project.policy.reconnectGraceMs / 1_000)),
                    "CreateTime": .string(Self.carTime(project.createdAt)),
                ])
            }
            return ["Total": .number(Double(all.count)), "Projects": .array(Array(page))]
        default:
            if Self.carUnsupported.contains(action) {
                throw CARError("UnsupportedOperation", "\(action) is not supported by Tether")
            }
            throw CARError("InvalidAction", "unknown action '\(action)'")
        }
    }

    /// CreateSession: in the project of the user's latest hold; `ServerSession` is the base64 of the native
    /// CreateSession answer's JSON (client token and `connect` included).
    private func carCreateSession(_ p: CARBodies.CreateSession, _ context: TetherRequestContext) async throws
        -> [String: JSONValue]
    {
        if p.HostUserId != nil || p.Role != nil {
            throw CARError("UnsupportedOperation", "multi-user sessions (HostUserId, Role) are not supported")
        }
        let now = time.now()
        guard
            let id = service.read({ broker in
                broker.projectOfLatestHold(of: p.UserId, at: now, among: { context.scope.sees($0) })
            })
        else {
            throw CARError(
                "FailedOperation.LockTimeout", "user '\(p.UserId)' has no live reservation; call ApplyConcurrent first")
        }
        let metadata = SessionMetadata(
            userIp: p.UserIp, clientSession: p.ClientSession, runMode: p.RunMode,
            parameters: try p.ApplicationParameters.map { text in
                String(decoding: try JSONEncoder().encode(JSONValue.string(text)), as: UTF8.self)
            })
        let command = Command.createSession(id, userId: p.UserId, sessionId: Self.newSessionID(), metadata: metadata)
        guard case .session(let s) = try await service.execute(command) else { throw APIError.unexpected }
        let project = try service.read { broker throws(BrokerError) in try broker.project(id) }
        let answer = try JSONEncoder().encode(created(s, project: project))
        return ["ServerSession": .string(answer.base64EncodedString())]
    }

    /// Seconds as milliseconds (`ReconnectTimeout`), refused past the native range's end.
    static func carSeconds(_ seconds: Int64?, _ field: String) throws -> Millis? {
        guard let seconds else { return nil }
        guard (0...86_400 * 365).contains(seconds) else {
            throw CARError("InvalidParameterValue", "\(field): out of range, got \(seconds)")
        }
        return seconds * 1_000
    }

    /// `yyyy-MM-ddTHH:mm:ssZ` of Unix ms.
    static func carTime(_ ms: Millis) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1_000))
    }
}
