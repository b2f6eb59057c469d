import Foundation
import Hummingbird
import Logging
import NIOPosix
import ServiceLifecycle
import TetherCore
import TetherProtocol
import TetherStore
import UnixSignals

/// `tether serve`: the backend API on the embedded SQLite store, with the broker behind it.
public struct TetherServer: Sendable {
    /// Settings.
    public var configuration: TetherConfiguration
    /// Where the shell reads time.
    public var time: any TimeSource
    /// The TLS identity of ``TetherConfiguration/tls``, read once per process by ``withTLS()``.
    var tlsIdentity: TLSIdentity?

    /// Creates a server.
    public init(configuration: TetherConfiguration, time: any TimeSource = WallClock()) {
        self.configuration = configuration
        self.time = time
    }

    /// Opens the store, rebuilds the broker, serves until SIGTERM/SIGINT, then shuts down in order
    /// (HTTP first, then the broker, which kicks clients and commits, then the store).
    public func run() async throws {
        let server = try withTLS()
        if case .postgres(let url) = configuration.storeLocation {
            try await ClusterRunner(server: server, url: url).run()
            return
        }
        let app = try await server.makeApplication()
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// This server with its TLS certificate read (files that cannot be used stop the start here, before any
    /// store is opened or port bound); itself when TLS is off or already read.
    func withTLS() throws -> TetherServer {
        guard tlsIdentity == nil, let files = configuration.tls else { return self }
        var server = self
        server.tlsIdentity = try TLSIdentity(files: files)
        return server
    }

    /// The services every process serving TLS runs beside its listeners: the SIGHUP reloader.
    func tlsServices() async -> [any Service] {
        guard let tlsIdentity else { return [] }
        return [await TLSReloader(identity: tlsIdentity, logger: logger)]
    }

    /// The logger the configuration asks for.
    var logger: Logger {
        var logger = configuration.logHandler.map { Logger(label: "tether", factory: $0) } ?? Logger(label: "tether")
        logger.logLevel = configuration.logLevel
        return logger
    }

    /// The group-commit observer that feeds `/metrics`.
    static let onCommit: GroupCommitWriter<StoreWrite>.Observer = { report in
        TetherMetrics.commit(batches: report.batches, duration: report.duration, failed: report.failed)
    }

    /// Opens the store, rebuilds the broker and builds the application (not yet running).
    /// `onReady` gets the bound backend port.
    public func makeApplication(
        onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        guard tlsIdentity != nil || configuration.tls == nil else {
            return try await withTLS().makeApplication(onReady: onReady)
        }
        let logger = logger
        TetherMetrics.bootstrap()
        let store: any Store
        switch configuration.storeLocation {
        case .sqlite(let path): store = try SQLiteStore(path: path, onCommit: Self.onCommit)
        case .postgres(let url):
            store = try await PostgresStore.open(url, exclusive: true, logger: logger, onCommit: Self.onCommit)
        }
        return try await makeApplication(store: store, cluster: nil, onReady: onReady)
    }

    /// The application on an open store.
    func makeApplication(
        store: any Store, cluster: ClusterView?, onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        let parts = try await makeParts(store: store, cluster: cluster)
        let host = configuration.host
        let demo = configuration.demo
        let http = configuration.schemes.http
        return Application(
            router: parts.router,
            server: BackendHTTPServer.builder(limits: ConnectionLimits(configuration), tls: tlsIdentity),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "tether"),
            services: parts.services + (await tlsServices()),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                Console.line("tether: backend API listening on \(http)://\(host):\(port)")
                Console.line("tether: dashboard at \(http)://\(host):\(port)/dashboard")
                if demo {
                    Console.line(
                        "tether: demo at \(http)://\(host):\(port)/demo (demo mode: POST /demo/session needs no key;"
                            + " never expose this server)")
                }
                await onReady(port)
            },
            logger: logger)
    }

    /// What serves on an open store: the backend API's router, and the services that run behind it (client
    /// plane, broker, event retention, webhooks; stopped in the reverse order). `cluster` (a node of a cluster
    /// that owns the lease): its view of the cluster, and the broker restored as a takeover (connections lost
    /// with cause `nodeLost`).
    func makeParts(store: any Store, cluster: ClusterView?) async throws -> (
        router: Router<TetherRequestContext>, services: [any Service]
    ) {
        let logger = logger
        TetherMetrics.bootstrap()
        try await store.migrate()  // migrations before settings
        let keys = KeyRing(store: store, time: time, given: configuration.apiKey)
        try await keys.load(logger: logger)
        let signer = TokenSigner(keyring: try await TokenKeyring.load(store: store, time: time))
        let group = MultiThreadedEventLoopGroup.singleton
        let loops = Array(group.makeIterator())
        // The broker's time waits for event loops that fall behind on reading heartbeats.
        let watch = LoopWatch(base: time, loopCount: loops.count, allowanceMs: configuration.loopLagAllowanceMs)
        watch.start(on: loops)
        // With --loop-liveness (the default), WebSocket and TCP heartbeats are recorded on their links and the
        // broker re-checks a due deadline against them; HTTP clients' heartbeats stay broker commands.
        var brokerConfiguration = configuration.broker
        if configuration.loopLiveness { brokerConfiguration.shellWatchedTransports = [.websocket, .tcp] }
        if cluster != nil { brokerConfiguration.restoredConnectionCause = .nodeLost }
        let service = try await BrokerService(
            store: store, time: watch, configuration: brokerConfiguration,
            shutdownRetryAfterMs: configuration.shutdownRetryAfterMs,
            shutdownPaceRatePerSecond: configuration.helloRatePerSecond, logger: logger)
        TetherMetrics.registerProjects(service)  // every family in /metrics from the start
        let assets = try WebAssets.load()
        if configuration.demo { try await DemoMode.ensureProject(service) }
        let planeContext = ClientPlaneContext(
            service: service, signer: signer, registry: ConnectionRegistry(), stats: StatsRegistry(), time: time,
            logger: logger, sweepers: PingSweepers(time: time),
            watchedTransports: brokerConfiguration.shellWatchedTransports,
            hellos: HelloGate(ratePerSecond: configuration.helloRatePerSecond, burst: configuration.helloRatePerSecond),
            alternates: {
                guard let cluster, let keeper = cluster.keeper else { return [] }
                return keeper.peers.map(cluster.connect(of:))
            })
        let limits = ConnectionLimits(configuration)
        let plane = try await ClientPlane(
            host: configuration.host, clientPort: configuration.clientPort, tcpPort: configuration.tcpPort,
            context: planeContext, group: group, limits: limits, tls: tlsIdentity, watch: watch)
        let schemes = configuration.schemes
        Console.line(
            "tether: client plane listening on \(schemes.websocket)://\(configuration.host):\(plane.clientPort)/v1/connect"
                + (plane.tcpPort == 0 ? "" : " and \(schemes.tcp)://\(configuration.host):\(plane.tcpPort)"))
        let webhooks = WebhookDispatcher(
            service: service, store: store, time: time, logger: logger, retry: configuration.webhookRetry)
        let poolHistory = PoolHistoryRecorder(service: service, time: time, periodMs: configuration.poolHistoryPeriodMs)
        var api = BackendAPI(
            service: service, store: store, signer: signer, configuration: configuration, keys: keys,
            time: time, stats: planeContext.stats, webhooks: webhooks, assets: assets, clientPort: plane.clientPort,
            tcpPort: plane.tcpPort, poolHistory: poolHistory,
            cluster: cluster
                ?? ClusterView(
                    node: ClusterNode(
                        nodeId: configuration.nodeId ?? "\(configuration.host):\(configuration.port)", incarnation: "",
                        publicHost: configuration.publicHost, apiPort: configuration.port, clientPort: plane.clientPort,
                        tcpPort: plane.tcpPort, startedAt: time.now(), lastSeenAt: time.now()),
                    keeper: nil, schemes: schemes))
        api.registry = planeContext.registry
        let registry = planeContext.registry
        cluster?.keeper?.countConnections { registry.count }
        if cluster == nil {
            TetherMetrics.node(owner: true, reachable: true)
            TetherMetrics.clusterNodes(alive: 1, dead: 0)
        }
        return (
            api.router(),
            [
                plane, service,
                EventRetention(
                    store: store, keep: configuration.eventsKeep, maxAgeMs: configuration.eventsMaxAgeMs, time: time,
                    logger: logger),
                webhooks,
                KeyUsageFlusher(keys: keys, logger: logger),
                poolHistory,
            ]
        )
    }

    static func bytes(hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < chars.count {
            guard let b = UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
            i += 2
        }
        return out
    }
}
