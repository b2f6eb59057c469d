/// Which node should own a project: rendezvous (highest-random-weight) hashing of the project over the live
/// nodes. Every node computes the same answer from the same membership, with no coordination; when a node
/// leaves, only its projects move (each to the node that scored second for it), and when a node joins, only
/// the projects it now scores highest for move, all of them to it (about 1/n of them).
///
/// The score must be the same in every process and every release of Tether (nodes of two builds run side by
/// side during an upgrade), so it is not Swift's `Hasher` (seeded per process) but FNV-1a over the UTF-8 bytes
/// of the node id, a zero byte and the project id, finished with SplitMix64's mixer. Pinned by tests.
public enum ProjectPlacement {
    /// The node among `nodes` that should own `projectId` (`nil` when there is none). The order of `nodes` does
    /// not matter; a tie (two equal scores) goes to the smaller node id.
    public static func owner(of projectId: ProjectID, among nodes: some Sequence<String>) -> String? {
        var best: (score: UInt64, node: String)?
        for node in nodes {
            let score = score(node: node, project: projectId)
            if let b = best, b.score > score || (b.score == score && b.node <= node) { continue }
            best = (score, node)
        }
        return best?.node
    }

    /// The weight of `node` for `project`.
    public static func score(node: String, project: ProjectID) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        for byte in node.utf8 { mix(byte) }
        mix(0)
        for byte in project.utf8 { mix(byte) }
        // SplitMix64's finaliser: FNV-1a alone spreads the last bytes poorly over the high bits.
        var z = hash &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
