import Hummingbird
import TetherCore

extension WebhookStatus: ResponseEncodable {}

extension BackendAPI {
    /// `GET /v1/projects/{projectId}/webhook`: the delivery state of the project's webhook.
    func addWebhookRoutes(to router: RouterGroup<TetherRequestContext>) {
        router.get("/projects/:projectId/webhook") { _, context -> WebhookStatus in
            let id = try context.project()
            let project = try service.read { broker throws(BrokerError) in try broker.project(id) }
            guard let webhook = project.policy.webhook else {
                throw APIError(
                    .notFound, code: "ResourceNotFound.Webhook", message: "project '\(id)' has no webhook")
            }
            if let status = await webhooks.status(of: id) { return status }
            return WebhookStatus(url: webhook.url)
        }
    }
}
