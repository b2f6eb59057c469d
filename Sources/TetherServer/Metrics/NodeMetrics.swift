import Metrics

/// A node's own figures in `/metrics`: whether it owns the cluster, whether it reaches its store, the
/// cluster's nodes as it last read them, and the calls it forwarded to the owner. A follower serves
/// `/metrics` itself (these, and no pools: the owner has those); a lone server is an owner among one node.
extension TetherMetrics {
    /// The node families of ``families``.
    static let nodeFamilies: [(name: String, type: String)] = [
        ("tether_node_owner", "gauge"), ("tether_node_store_reachable", "gauge"), ("tether_cluster_nodes", "gauge"),
        ("tether_node_forwarded_requests_total", "counter"),
    ]

    private static let ownerGauge = Metrics.Gauge(label: "tether_node_owner", factory: factory)
    private static let reachableGauge = Metrics.Gauge(label: "tether_node_store_reachable", factory: factory)
    private static let aliveGauge = Metrics.Gauge(
        label: "tether_cluster_nodes", dimensions: [("state", "alive")], factory: factory)
    private static let deadGauge = Metrics.Gauge(
        label: "tether_cluster_nodes", dimensions: [("state", "dead")], factory: factory)
    private static let forwardedCounter = Metrics.Counter(
        label: "tether_node_forwarded_requests_total", factory: factory)

    /// This node's part and its store's reachability.
    static func node(owner: Bool, reachable: Bool) {
        ownerGauge.record(owner ? 1 : 0)
        reachableGauge.record(reachable ? 1 : 0)
    }

    /// The cluster's nodes by state, as this node last read them.
    static func clusterNodes(alive: Int, dead: Int) {
        aliveGauge.record(alive)
        deadGauge.record(dead)
    }

    /// A backend call this node forwarded to the owner.
    static func forwarded() { forwardedCounter.increment() }
}
