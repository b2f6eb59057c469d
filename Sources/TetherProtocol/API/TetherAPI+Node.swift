extension TetherAPI {
    /// A node of a cluster (`GET /v1/nodes`).
    public struct Node: Codable, Sendable, Hashable {
        /// The node's `--node-id`.
        public var nodeId: String
        /// The node's backend API on its public host (`http://HOST:PORT`).
        public var publicUrl: String
        /// When the node joined (Unix ms, the database's clock).
        public var startedAt: Int64
        /// When it last renewed its membership (same clock).
        public var lastSeenAt: Int64
        /// `alive`, or `dead` when it has not renewed within the node timeout.
        public var state: String
        /// Its open client connections at its last renewal.
        public var connections: Int
        /// Whether it owns the cluster's lease (runs the broker; the others forward to it).
        public var owner: Bool
        /// Where its clients connect.
        public var connect: CreatedSession.Connect

        /// Creates a node.
        public init(
            nodeId: String, publicUrl: String, startedAt: Int64, lastSeenAt: Int64, state: String, connections: Int,
            owner: Bool, connect: CreatedSession.Connect
        ) {
            self.nodeId = nodeId
            self.publicUrl = publicUrl
            self.startedAt = startedAt
            self.lastSeenAt = lastSeenAt
            self.state = state
            self.connections = connections
            self.owner = owner
            self.connect = connect
        }
    }

    /// The cluster's nodes, by id.
    public struct NodeList: Codable, Sendable, Hashable {
        /// The nodes.
        public var nodes: [Node]

        /// Creates the list.
        public init(nodes: [Node]) { self.nodes = nodes }
    }
}

extension TetherAPI.NodeList: JSONWritable {
    /// Writes the list with each node's members in their declared order (what `GET /v1/nodes` answers).
    public func writeJSON(to w: inout JSONWriter) -> Bool {
        w.beginObject()
        w.key("nodes")
        w.beginArray()
        for node in nodes {
            w.beginObject()
            w.field("nodeId", node.nodeId)
            w.field("publicUrl", node.publicUrl)
            w.field("startedAt", node.startedAt)
            w.field("lastSeenAt", node.lastSeenAt)
            w.field("state", node.state)
            w.field("connections", node.connections)
            w.field("owner", node.owner)
            w.key("connect")
            node.connect.writeJSON(into: &w)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return true
    }
}
