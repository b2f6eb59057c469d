import Hummingbird
import TetherCore
import TetherProtocol

extension BackendAPI {
    func addProjectRoutes(to router: RouterGroup<TetherRequestContext>) {
        router.post("/projects") { request, context -> EditedResponse<TetherAPI.Project> in
            try context.requireAdmin("creating a project")
            let body = try await request.decode(as: TetherAPI.CreateProjectRequest.self, context: context)
            let reply = try await service.execute(
                .createProject(id: body.id, name: body.name ?? body.id, policy: body.policy),
                audit: context.audit(.projectCreate, body.id, at: time.now()))
            guard case .project(let p) = reply else { throw APIError.unexpected }
            return EditedResponse(status: .created, response: TetherAPI.Project(p))
        }
        router.get("/projects") { _, context in
            TetherAPI.ProjectList(
                projects: service.read { $0.allProjects }.filter { context.scope.sees($0.id) }.map(
                    TetherAPI.Project.init))
        }
        router.get("/projects/:projectId") { _, context in
            let id = try context.project()
            return TetherAPI.Project(try service.read { broker throws(BrokerError) in try broker.project(id) })
        }
        router.patch("/projects/:projectId") { request, context in
            let id = try context.project()
            let body = try await request.decode(as: TetherAPI.UpdateProjectRequest.self, context: context)
            let (hadWebhook, cursor) = service.read { broker in
                ((try? broker.project(id))?.policy.webhook != nil, broker.cursor)
            }
            // A webhook added to an existing project delivers from now on, not the project's history (told to
            // the dispatcher before the broker has the webhook, since its worker may start at once).
            if !hadWebhook { webhooks.webhookAdding(id, at: cursor) }
            let reply: Reply
            do {
                reply = try await service.execute(
                    .updateProject(id, body.patch), audit: context.audit(.projectUpdate, id, at: time.now()))
            } catch {
                webhooks.webhookNotAdded(id)
                throw error
            }
            guard case .project(let p) = reply else { throw APIError.unexpected }
            if !hadWebhook && p.policy.webhook != nil {
                try await webhooks.webhookAdded(id, at: cursor)
            } else {
                webhooks.webhookNotAdded(id)
            }
            return TetherAPI.Project(p)
        }
        router.delete("/projects/:projectId") { _, context in
            let id = try context.project()
            try context.requireAdmin("deleting a project")
            guard
                case .project(let p) = try await service.execute(
                    .deleteProject(id), audit: context.audit(.projectDelete, id, at: time.now()))
            else {
                throw APIError.unexpected
            }
            await webhooks.projectDeleted(id)  // nothing is sent for it once this is answered
            return TetherAPI.Project(p)
        }
        router.get("/projects/:projectId/concurrency") { _, context in
            let id = try context.project()
            return TetherAPI.ConcurrencyCount(
                try service.read { broker throws(BrokerError) in try broker.count(id) })
        }
        router.get("/projects/:projectId/history") { _, context in
            let id = try context.project()
            guard let samples = poolHistory.samples(of: id) else { throw BrokerError.projectNotFound(id) }
            return TetherAPI.PoolHistory(
                projectId: id, periodMs: poolHistory.periodMs, windowMs: poolHistory.windowMs,
                samples: samples.map(TetherAPI.PoolSample.init))
        }
    }
}

extension APIError {
    /// The broker answered with the wrong kind of reply (a bug).
    static let unexpected = APIError(.internalServerError, code: "InternalError", message: "unexpected reply")
}
