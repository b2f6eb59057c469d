import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// A node of a cluster as its membership row says, with its liveness judged on the database's clock.
public struct ClusterNode: Sendable, Hashable {
    /// The node's `--node-id`.
    public var nodeId: String
    /// A random id per process: a restarted node, or a second process with the same id, differs in it.
    public var incarnation: String
    /// The host clients are told to use for this node (`--public-url`'s host).
    public var publicHost: String
    /// The backend API's port.
    public var apiPort: Int
    /// The WebSocket and HTTP-heartbeat port.
    public var clientPort: Int
    /// The TCP port (0: none).
    public var tcpPort: Int
    /// When the process registered (ms since the epoch, the database's clock).
    public var startedAt: Int64
    /// When it last renewed its membership (same clock).
    public var lastSeenAt: Int64
    /// Its open client connections at its last renewal.
    public var connections: Int
    /// Whether it renewed within the node timeout.
    public var alive: Bool

    /// Creates a node row.
    public init(
        nodeId: String, incarnation: String, publicHost: String, apiPort: Int, clientPort: Int, tcpPort: Int,
        startedAt: Int64 = 0, lastSeenAt: Int64 = 0, connections: Int = 0, alive: Bool = true
    ) {
        self.nodeId = nodeId
        self.incarnation = incarnation
        self.publicHost = publicHost
        self.apiPort = apiPort
        self.clientPort = clientPort
        self.tcpPort = tcpPort
        self.startedAt = startedAt
        self.lastSeenAt = lastSeenAt
        self.connections = connections
        self.alive = alive
    }
}

/// The cluster's lease: which node runs the broker, under which fence.
public struct ClusterLease: Sendable, Hashable {
    /// The owner's node id, if the lease was ever taken.
    public var owner: String?
    /// The owner's incarnation.
    public var incarnation: String?
    /// Raised by one at every takeover; the owner's writes carry it.
    public var fence: Int64
    /// How long the lease still runs on the database's clock (negative: expired).
    public var remainingMs: Int64
}

extension PostgresStore {
    /// The database's clock in ms since the epoch: every node judges leases and membership on it, so the nodes'
    /// own clocks may disagree.
    static let databaseNow = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

    /// Runs `body` on a pooled connection, mapping the driver's errors to ``StoreError`` where one fits.
    func withConnection<T: Sendable>(
        _ body: @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        guard !isClosed else { throw StoreError.closed }
        let logger = logger
        do {
            return try await client.withConnection { connection in try await body(connection, logger) }
        } catch {
            throw storeError(error) ?? error
        }
    }

    /// Registers this process as `node` (its row made or replaced). Only one live process holds a node id:
    /// the store was opened with that id's lock (``open(_:exclusive:nodeId:logger:onCommit:)``).
    public func register(_ node: ClusterNode) async throws {
        try await withConnection { connection, logger in
            _ = try await connection.query(
                """
                INSERT INTO tether_nodes AS n (node_id, incarnation, public_host, api_port, client_port, tcp_port,
                    started_at, last_seen_at, connections)
                VALUES (\(node.nodeId), \(node.incarnation), \(node.publicHost), \(Int64(node.apiPort)),
                    \(Int64(node.clientPort)), \(Int64(node.tcpPort)), \(unescaped: Self.databaseNow),
                    \(unescaped: Self.databaseNow), 0)
                ON CONFLICT (node_id) DO UPDATE SET incarnation = excluded.incarnation,
                    public_host = excluded.public_host, api_port = excluded.api_port,
                    client_port = excluded.client_port, tcp_port = excluded.tcp_port,
                    started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, connections = 0
                """, logger: logger)
        }
    }

    /// Renews this incarnation's membership with its connection count; false when the row is another
    /// incarnation's now (a process with the same id took it after this one was declared dead).
    public func renew(nodeId: String, incarnation: String, connections: Int) async throws -> Bool {
        try await withConnection { connection, logger in
            var renewed = false
            for try await _ in try await connection.query(
                """
                UPDATE tether_nodes SET last_seen_at = \(unescaped: Self.databaseNow), connections = \(Int64(connections))
                WHERE node_id = \(nodeId) AND incarnation = \(incarnation) RETURNING node_id
                """, logger: logger)
            {
                renewed = true
            }
            return renewed
        }
    }

    /// Marks this incarnation as gone at once (a clean stop), so that the others need not wait it out.
    public func leave(nodeId: String, incarnation: String) async throws {
        try await withConnection { connection, logger in
            _ = try await connection.query(
                "UPDATE tether_nodes SET last_seen_at = 0 WHERE node_id = \(nodeId) AND incarnation = \(incarnation)",
                logger: logger)
        }
    }

    /// Every registered node, by id, alive when it renewed within `timeoutMs`.
    public func nodes(timeoutMs: Int64) async throws -> [ClusterNode] {
        try await withConnection { connection, logger in
            var nodes: [ClusterNode] = []
            let rows = try await connection.query(
                """
                SELECT node_id, incarnation, public_host, api_port, client_port, tcp_port, started_at, last_seen_at,
                    connections, last_seen_at >= \(unescaped: Self.databaseNow) - \(timeoutMs)
                FROM tether_nodes ORDER BY node_id
                """, logger: logger)
            for try await (id, incarnation, host, api, client, tcp, started, seen, connections, alive) in rows.decode(
                (String, String, String, Int64, Int64, Int64, Int64, Int64, Int64, Bool).self)
            {
                nodes.append(
                    ClusterNode(
                        nodeId: id, incarnation: incarnation, publicHost: host, apiPort: Int(api),
                        clientPort: Int(client), tcpPort: Int(tcp), startedAt: started, lastSeenAt: seen,
                        connections: Int(connections), alive: alive))
            }
            return nodes
        }
    }

    /// Takes the lease for `ttlMs` when it has expired (or was released), raising its fence; the new fence, or
    /// nil when another node holds it.
    public func acquireLease(nodeId: String, incarnation: String, ttlMs: Int64) async throws -> Int64? {
        try await withConnection { connection, logger in
            var fence: Int64?
            for try await value in try await connection.query(
                """
                UPDATE tether_lease SET owner = \(nodeId), incarnation = \(incarnation), fence = fence + 1,
                    expires_at = \(unescaped: Self.databaseNow) + \(ttlMs)
                WHERE scope = '*' AND expires_at < \(unescaped: Self.databaseNow) RETURNING fence
                """, logger: logger
            ).decode(Int64.self) {
                fence = value
            }
            return fence
        }
    }

    /// Extends the lease held under `fence` by `ttlMs` from now; false when it is no longer held under it.
    public func renewLease(fence: Int64, ttlMs: Int64) async throws -> Bool {
        try await withConnection { connection, logger in
            var renewed = false
            for try await _ in try await connection.query(
                """
                UPDATE tether_lease SET expires_at = \(unescaped: Self.databaseNow) + \(ttlMs)
                WHERE scope = '*' AND fence = \(fence) RETURNING fence
                """, logger: logger)
            {
                renewed = true
            }
            return renewed
        }
    }

    /// Gives the lease held under `fence` up at once (a clean stop hands over without waiting for expiry).
    public func releaseLease(fence: Int64) async throws {
        try await withConnection { connection, logger in
            _ = try await connection.query(
                "UPDATE tether_lease SET expires_at = 0 WHERE scope = '*' AND fence = \(fence)", logger: logger)
        }
    }

    /// The lease as it stands.
    public func lease() async throws -> ClusterLease {
        try await withConnection { connection, logger in
            var lease = ClusterLease(owner: nil, incarnation: nil, fence: 0, remainingMs: -1)
            for try await (owner, incarnation, fence, remaining) in try await connection.query(
                """
                SELECT owner, incarnation, fence, expires_at - \(unescaped: Self.databaseNow)
                FROM tether_lease WHERE scope = '*'
                """, logger: logger
            ).decode((String?, String?, Int64, Int64).self) {
                lease = ClusterLease(owner: owner, incarnation: incarnation, fence: fence, remainingMs: remaining)
            }
            return lease
        }
    }

    /// From now on, every write transaction checks that the lease is still held under `fence` (nil: no check).
    public func fence(with fence: Int64?) {
        writeFence.withLockedValue { $0 = fence }
    }

    /// Reads the lease row `FOR SHARE` in the write transaction and throws ``StoreError/fenced(_:)`` unless it
    /// still carries `fence`.
    static func checkFence(_ fence: Int64, _ connection: PostgresConnection, _ logger: Logger) async throws {
        var current: Int64?
        for try await value in try await connection.query(
            "SELECT fence FROM tether_lease WHERE scope = '*' FOR SHARE", logger: logger
        ).decode(Int64.self) {
            current = value
        }
        guard current == fence else {
            throw StoreError.fenced("this node's lease (fence \(fence)) was taken over (fence \(current ?? 0))")
        }
    }
}
