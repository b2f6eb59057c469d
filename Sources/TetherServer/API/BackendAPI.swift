import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TetherCore
import TetherProtocol
import TetherStore

/// The control plane: the backend API (projects, concurrency, sessions, events), health, the OpenAPI document,
/// the browser SDK, the dashboard and, with `--demo`, the demo.
struct BackendAPI: Sendable {
    let service: BrokerService
    let store: any Store
    let signer: TokenSigner
    let configuration: TetherConfiguration
    /// The API keys.
    let keys: KeyRing
    let time: any TimeSource
    let stats: StatsRegistry
    /// The client plane's live connections (whose event loops know their last heartbeats).
    var registry = ConnectionRegistry()
    let webhooks: WebhookDispatcher
    /// The browser files (SDK, demo, dashboard).
    let assets: WebAssets
    /// The client plane's bound ports (they differ from the configuration when it asked for port 0).
    var clientPort: Int
    var tcpPort: Int
    /// Every project's pool over the last hour (the dashboard's plot).
    let poolHistory: PoolHistoryRecorder
    /// The cluster as this node sees it (`GET /v1/nodes`, `/readyz`); a node on the embedded store is alone.
    var cluster: ClusterView

    /// The router with every route; unauthenticated routes first.
    func router() -> Router<TetherRequestContext> {
        let router = Router(context: TetherRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.get("/metrics") { _, _ in
            let counts = service.read { broker in
                var counts: [ProjectID: ConcurrencyCount] = [:]
                for project in broker.allProjects { counts[project.id] = try? broker.count(project.id) }
                return counts
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: TetherMetrics.render(pools: counts))))
        }
        router.get("/healthz") { _, _ in ["status": "ok"] }
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        addWebRoutes(to: router)
        if configuration.demo { addDemoRoutes(to: router) }
        addCARRoutes(to: router)
        let v1 = router.group("/v1").add(middleware: APIKeyMiddleware(ring: keys))
        cluster.addRoutes(to: router, v1: v1)
        addProjectRoutes(to: v1)
        addSessionRoutes(to: v1)
        addQueueRoutes(to: v1)
        EventRoutes(
            feed: service.feed, store: store, keepAliveMs: configuration.eventStreamKeepAliveMs,
            keyIsLive: { keys.isLive($0) }
        ).add(to: v1)
        addWebhookRoutes(to: v1)
        addKeyRoutes(to: v1)
        addAuditRoutes(to: v1)
        addSecretRoutes(to: v1)
        router.answerUnservedMethods()
        return router
    }
}
