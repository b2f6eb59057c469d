import AsyncHTTPClient
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import TetherCore
import TetherStore

/// The phases of a cluster node, one after the other, behind its one HTTP server (``SwitchingResponder``):
///
/// * **owner** (it holds the cluster's lease): everything a lone server runs (client plane, broker, event
///   retention, webhooks) on a store of its own whose every write is fenced by the lease; the broker is
///   restored from the database, the restart path, with the connections of the node that held the lease
///   before lost with cause `nodeLost`;
/// * **follower**: the backend API forwards every call to the owner (``ForwardingMiddleware``) and answers
///   `GET /v1/nodes`, `/healthz` and `/readyz` itself.
///
/// A phase ends when the node's part changes (``RoleWatch``): a follower that takes the lease becomes the owner;
/// an owner that cannot renew its lease in time stops its services (its broker kicks every client with
/// `shutdown`) and becomes a follower. A graceful shutdown (a signal) ends the current phase and the loop.
struct PhaseLoop: Service {
    let server: TetherServer
    let url: PostgresURL
    let keeper: ClusterKeeper
    let control: PostgresStore
    let responder: SwitchingResponder
    let logger: Logger

    /// Another process took this node's id.
    struct Evicted: Error, CustomStringConvertible {
        let nodeId: String
        var description: String { "another process registered as node \(nodeId): this one stops" }
    }

    func run() async throws {
        var httpConfiguration = HTTPClient.Configuration(
            timeout: .init(connect: .seconds(2), read: nil), decompression: .disabled)
        httpConfiguration.redirectConfiguration = .disallow
        // Over TLS, the owner's certificate is checked against the system's roots, this node's own chain (nodes
        // that share one certificate) and `--ca-file`.
        httpConfiguration.tlsConfiguration = try server.peerTLSConfiguration()
        // A follower passes on as many calls at once as its clients make: AsyncHTTPClient's default of 8
        // connections to the owner queued the rest in its pool (docs/PERFORMANCE.md, "Several nodes").
        httpConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        // Every node serves the event log itself, from its own mirror of it (LISTEN/NOTIFY).
        let responder = responder
        let mirror = try await EventMirror.open(url, logger: logger)
        let mirroring = Task { await mirror.run() }
        let follower: Router<TetherRequestContext>
        do {
            follower = try await followerRouter(http: http, events: mirror)
        } catch {
            mirroring.cancel()
            await mirroring.value
            try? await http.shutdown()
            throw error
        }
        var failure: (any Error)?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if keeper.evicted {
                failure = Evicted(nodeId: keeper.node.nodeId)
                break
            }
            let role = keeper.role
            switch role {
            case .owner(let fence):
                if !(await runOwner(fence: fence)) { try? await Task.sleep(for: .milliseconds(keeper.pollMs)) }
            case .follower:
                responder.serve(follower)
                await runPhase(await redirectPlane(), watching: role)
            }
            responder.serve(nil)
        }
        mirroring.cancel()
        await mirroring.value
        try? await http.shutdown()
        if let failure { throw failure }
    }

    /// The owner's phase, until its part changes; false when it could not start.
    private func runOwner(fence: Int64) async -> Bool {
        let store: PostgresStore
        let parts: (router: Router<TetherRequestContext>, services: [any Service])
        do {
            store = try await PostgresStore.open(url, logger: logger, onCommit: TetherServer.onCommit)
            store.fence(with: fence)
            do {
                parts = try await server.makeParts(
                    store: store,
                    cluster: ClusterView(node: keeper.node, keeper: keeper, schemes: server.configuration.schemes))
            } catch {
                try? await store.close()
                throw error
            }
        } catch {
            logger.error("this node could not start as the owner", metadata: ["error": "\(error)"])
            return false
        }
        Console.line("tether: node \(keeper.node.nodeId) owns the cluster (fence \(fence))")
        responder.serve(parts.router, owner: true)
        await runPhase(parts.services, watching: .owner(fence: fence)) { store.abandon() }
        return true
    }

    /// Runs `services` with a ``RoleWatch`` until the role changes or the node shuts down.
    private func runPhase(
        _ services: [any Service], watching role: LeaseHolder.Role, onChange: @escaping @Sendable () -> Void = {}
    ) async {
        let watch = RoleWatch(keeper: keeper, role: role, onChange: onChange)
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) } + [
                    .init(service: watch, successTerminationBehavior: .gracefullyShutdownGroup)
                ], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("a phase of this node failed", metadata: ["error": "\(error)"])
        }
    }

    /// The follower's client ports, which send every client to the owner (`moved`); none if they cannot be
    /// bound (the client then finds the port closed, and tries its alternates).
    private func redirectPlane() async -> [any Service] {
        let configuration = server.configuration
        let schemes = configuration.schemes
        let keeper = keeper
        let released = NIOLockedValueBox(false)
        do {
            return [
                try await RedirectPlane(
                    host: configuration.host, clientPort: configuration.clientPort, tcpPort: configuration.tcpPort,
                    // This node itself once it has taken the lease, but only after this plane has let go of the
                    // ports: until its own client plane binds them, a held hello's probe finds them closed and
                    // waits (sent there earlier, the client would find this plane, or nothing, and back off).
                    target: {
                        guard let owner = keeper.renewingOwner else { return nil }
                        if owner.nodeId == keeper.node.nodeId && !released.withLockedValue({ $0 }) { return nil }
                        return schemes.connect(
                            host: owner.publicHost, clientPort: owner.clientPort, tcpPort: owner.tcpPort)
                    },
                    // A hello in a takeover waits for the next owner: the node timeout and a margin, within the
                    // SDKs' 10 s for a welcome.
                    waitMs: min(keeper.timeoutMs + 2_000, 8_000), released: released,
                    limits: ConnectionLimits(configuration), tls: server.tlsIdentity)
            ]
        } catch {
            logger.warning("cannot bind the client ports of a follower", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// The follower's router: health, readiness, `/metrics`, `GET /v1/nodes` and the event log (from `events`)
    /// here, everything else forwarded.
    private func followerRouter(http: HTTPClient, events: EventMirror) async throws -> Router<TetherRequestContext> {
        let configuration = server.configuration
        let keys = KeyRing(store: control, time: server.time, given: configuration.apiKey)
        let keeper = keeper
        let responder = responder
        let router = Router(context: TetherRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.add(
            middleware: ForwardingMiddleware(
                owner: {
                    guard let owner = keeper.owner else { return nil }
                    // This node took the lease while the call waited: once its owner's phase serves, the call
                    // goes to its own API port (it would otherwise wait for an owner that is itself).
                    if owner.nodeId == keeper.node.nodeId && !responder.servesOwner { return nil }
                    return (host: owner.publicHost, port: owner.apiPort)
                }, nodeId: keeper.node.nodeId, local: ["/healthz", "/readyz", "/v1/nodes", "/metrics", "/v1/events"],
                http: http, scheme: configuration.schemes.http,
                waitMs: keeper.timeoutMs + 2_000))
        router.get("/healthz") { _, _ in ["status": "ok"] }
        // This node's own figures; a follower holds no pools (series of projects it reported as owner go to 0).
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: TetherMetrics.render(pools: [:]))))
        }
        let v1 = router.group("/v1").add(middleware: APIKeyMiddleware(ring: keys, reloadEachCall: true))
        ClusterView(node: keeper.node, keeper: keeper, schemes: configuration.schemes).addRoutes(to: router, v1: v1)
        EventRoutes(
            feed: events.feed, store: events.store, keepAliveMs: configuration.eventStreamKeepAliveMs,
            refresh: { try await events.refresh() }, keyIsLive: { keys.isLive($0) },
            reloadKeys: { try await keys.reload(ifOlderThanMs: 1_000) }
        ).add(to: v1)
        return router
    }
}
