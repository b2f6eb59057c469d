import TetherProtocol

extension TetherBackend {
    /// A node of the cluster, as `GET /v1/nodes` lists it.
    public typealias Node = TetherAPI.Node
    /// `GET /v1/nodes`'s answer.
    public typealias NodeList = TetherAPI.NodeList

    /// The nodes of the cluster (one, on the embedded store): which is alive, which owns the pools, and where
    /// each takes clients.
    public func nodes() async throws -> [Node] { try await send(.nodes).nodes }
}

extension BackendRequest where Response == TetherBackend.NodeList {
    /// `GET /v1/nodes`.
    public static var nodes: Self { Self(method: "GET", path: "/v1/nodes") }
}
