import TetherCore

/// `tether serve --demo`: a small project for trying the browser SDK by hand, and an unauthenticated
/// endpoint that hands out its sessions. Never for a server reachable from the internet.
enum DemoMode {
    /// The demo project's id.
    static let projectId: ProjectID = "demo"

    /// Three slots, 2 s heartbeats (6 s timeout), 30 s grace, suspensions up to 60 s, and a waiting queue
    /// (offers held 30 s, a queued page silent for 10 s leaves it).
    static let policy = Policy(
        capacity: 3, heartbeat: .init(intervalMs: 2_000, timeoutMs: 6_000), reconnectGraceMs: 30_000,
        reservationTtlMs: 30_000, connectTimeoutMs: 60_000, maxSuspendMs: 60_000,
        queue: QueuePolicy(enabled: true, offerTtlMs: 30_000, clientTimeoutMs: 10_000))

    /// Creates the demo project when it is missing; an existing one is left as it is.
    static func ensureProject(_ service: BrokerService) async throws {
        if (try? service.read({ broker throws(BrokerError) in try broker.project(projectId) })) != nil { return }
        _ = try await service.execute(.createProject(id: projectId, name: "Demo", policy: policy))
    }
}
