import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOPosix
import ServiceLifecycle
import TetherCore
import TetherStore
import UnixSignals

/// `tether serve --store postgres://…`: a node of a cluster. It takes its node id's lock and registers its
/// membership (a second live node with the same `--node-id` is refused), starts the keeper of its membership
/// and of the cluster's lease (``ClusterKeeper``), binds its backend API once (``SwitchingResponder``) and runs
/// its phases, owner or follower (``PhaseLoop``), until SIGTERM/SIGINT. A clean stop gives the lease up and
/// marks the node gone, so another node takes over at once.
struct ClusterRunner {
    let server: TetherServer
    let url: PostgresURL

    func run() async throws {
        var configuration = server.configuration
        let logger = server.logger
        // The ports are the node's for its whole life: each phase binds the same ones, and its membership row
        // names them.
        for port in [\TetherConfiguration.port, \.clientPort] where configuration[keyPath: port] == 0 {
            configuration[keyPath: port] = try Self.freePort(host: configuration.host)
        }
        let nodeId = configuration.nodeId ?? "\(configuration.host):\(configuration.port)"
        // The control store holds the node id's lock for the node's life (a second live process with the same
        // id is refused here); membership and the lease go through it, on an event loop of their own: on the
        // shared loops, 10 000 clients hammering heartbeats delayed the lease's renewals past the node timeout
        // and the owner fenced itself (tether bench cluster, docs/PERFORMANCE.md).
        let controlLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { Task.detached { try? await controlLoops.shutdownGracefully() } }
        let control = try await PostgresStore.open(url, nodeId: nodeId, logger: logger, eventLoopGroup: controlLoops)
        let node = ClusterNode(
            nodeId: nodeId, incarnation: UUID().uuidString, publicHost: configuration.publicHost,
            apiPort: configuration.port, clientPort: configuration.clientPort, tcpPort: configuration.tcpPort)
        do {
            try await control.register(node)
        } catch {
            try? await control.close()
            throw error
        }
        let keeper = ClusterKeeper(node: node, timeoutMs: configuration.nodeTimeoutMs, store: control, logger: logger)
        await keeper.tick()  // takes the lease at once when nobody holds it
        let loop = Task { await keeper.run() }
        Console.line("tether: node \(node.nodeId) joined the cluster on \(url)")
        var server = server
        server.configuration = configuration
        let responder = SwitchingResponder()
        let phases = PhaseLoop(
            server: server, url: url, keeper: keeper, control: control, responder: responder, logger: logger)
        let host = configuration.host
        let http = configuration.schemes.http
        let app = Application(
            responder: responder,
            server: BackendHTTPServer.builder(limits: ConnectionLimits(configuration), tls: server.tlsIdentity),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "tether"),
            services: [phases] + (await server.tlsServices()),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                Console.line("tether: node \(nodeId): backend API listening on \(http)://\(host):\(port)")
            },
            logger: logger)
        var failure: (any Error)?
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            failure = error
        }
        loop.cancel()
        await loop.value
        await keeper.leave()
        control.abandon()  // a database that is gone must not hold the exit
        try? await control.close()
        if let failure { throw failure }
    }

    /// A port free on `host` a moment ago.
    static func freePort(host: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StoreError.badLocation("cannot pick a free port on \(host)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr(host == "0.0.0.0" ? "127.0.0.1" : host)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw StoreError.badLocation("cannot pick a free port on \(host)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
