import Hummingbird
import TetherCore
import TetherProtocol
import TetherStore

/// What a node's backend API knows of the cluster: `GET /v1/nodes`, the owner to forward to, the other nodes'
/// `connect` blocks, and whether the database answers. A node on the embedded store is a cluster of one.
struct ClusterView: Sendable {
    /// This node's row.
    let node: ClusterNode
    /// The keeper of a node on PostgreSQL; nil on the embedded store.
    let keeper: ClusterKeeper?
    /// The URL schemes of the nodes' listeners: the nodes of a cluster all serve TLS, or none does.
    let schemes: ListenerSchemes

    /// The `connect` block of a node.
    func connect(of node: ClusterNode) -> TetherAPI.CreatedSession.Connect {
        schemes.connect(host: node.publicHost, clientPort: node.clientPort, tcpPort: node.tcpPort)
    }

    /// Whether the node can reach its store (`/readyz`).
    var reachable: Bool { keeper?.reachable ?? true }

    /// Every node, by id.
    func nodes() async throws -> [ClusterNode] {
        guard let keeper else { return [node] }
        return try await keeper.nodes()
    }

    /// `GET /v1/nodes`'s answer.
    func nodeList() async throws -> TetherAPI.NodeList {
        let owner = keeper == nil ? node.nodeId : (keeper?.owner?.nodeId ?? "")
        return TetherAPI.NodeList(
            nodes: try await nodes().map { n in
                TetherAPI.Node(
                    nodeId: n.nodeId, publicUrl: "\(schemes.http)://\(n.publicHost):\(n.apiPort)",
                    startedAt: n.startedAt,
                    lastSeenAt: n.lastSeenAt, state: n.alive ? "alive" : "dead", connections: n.connections,
                    owner: n.alive && n.nodeId == owner, connect: connect(of: n))
            })
    }

    /// `GET /v1/nodes` (behind the API key) and `/readyz` (503 while the store cannot be reached).
    func addRoutes(to router: Router<TetherRequestContext>, v1: RouterGroup<TetherRequestContext>) {
        router.get("/readyz") { _, _ -> Response in
            guard reachable else {
                throw APIError(
                    .serviceUnavailable, code: "InternalError.Store", message: "the store cannot be reached",
                    retryAfterMs: 1_000)
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ready"}"#)))
        }
        v1.get("/nodes") { request, context in
            do {
                return try await nodeList()
            } catch {
                throw APIError(
                    .serviceUnavailable, code: "InternalError.Store", message: "the store cannot be reached",
                    retryAfterMs: 1_000)
            }
        }
    }
}

extension TetherAPI.NodeList: ResponseEncodable {}
