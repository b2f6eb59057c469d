import Foundation
import Logging
import NIOConcurrencyHelpers
import TetherCore
import TetherStore

/// The executor of this node's membership and of the cluster's lease (``LeaseHolder``, the rule): one task
/// that renews the node's row, takes or renews the lease as the rule says, and keeps what the rest of the node
/// asks about: its role, the owner's address (where followers send calls and clients), and whether the
/// database answers. It holds no rule of its own.
final class ClusterKeeper: Sendable {
    /// This node as registered.
    let node: ClusterNode
    let timeoutMs: Int64
    private let store: PostgresStore
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    private struct State {
        var holder: LeaseHolder
        /// The owner's row, as last read (nil: no owner known).
        var owner: ClusterNode?
        /// The owner renewed its lease on time as of the last read (no more than a renewal period and two looks
        /// ago): a dead owner's lease runs down for a whole node timeout, during which clients are better kept
        /// waiting than sent to it.
        var ownerRenewing = false
        /// When the database last answered (monotonic ms).
        var lastContact: Millis
        var lastMembershipRenewal: Millis = .min / 2
        /// Another process registered with this node's id after this one was declared dead.
        var evicted = false
        /// The other live nodes, by id, as of the last membership renewal.
        var peers: [ClusterNode] = []
    }

    init(node: ClusterNode, timeoutMs: Int64, store: PostgresStore, logger: Logger) {
        self.node = node
        self.timeoutMs = timeoutMs
        self.store = store
        self.logger = logger
        self.state = NIOLockedValueBox(
            State(holder: LeaseHolder(ttlMs: timeoutMs), owner: nil, lastContact: Self.monotonicNow()))
    }

    /// Milliseconds of a clock that never jumps and keeps counting while the process is stopped.
    static func monotonicNow() -> Millis { Millis(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    /// How often the loop looks: a follower tries to take an expired lease within this.
    var pollMs: Int64 { max(20, min(250, timeoutMs / 10)) }

    /// This node's part now (an owner whose lease ran out is a follower already).
    var role: LeaseHolder.Role {
        state.withLockedValue { s in
            if case .owner = s.holder.role, !s.holder.owns(at: Self.monotonicNow()) { return .follower }
            return s.holder.role
        }
    }

    /// The owner's row, when another node owns the lease.
    var owner: ClusterNode? { state.withLockedValue { $0.owner } }

    /// The owner, when its lease is being renewed (not running down): where clients are sent.
    var renewingOwner: ClusterNode? { state.withLockedValue { $0.ownerRenewing ? $0.owner : nil } }

    /// Whether the database answered within the node timeout.
    var reachable: Bool { state.withLockedValue { Self.monotonicNow() - $0.lastContact < timeoutMs } }

    /// Whether another process took this node's id.
    var evicted: Bool { state.withLockedValue { $0.evicted } }

    /// The other live nodes, by id (the `alternates` of a welcome), as of the last membership renewal.
    var peers: [ClusterNode] { state.withLockedValue { $0.peers } }

    private let connectionSource = NIOLockedValueBox<(@Sendable () -> Int)?>(nil)

    /// Where the membership renewals read the node's open client connections (the owner's client plane).
    func countConnections(with source: (@Sendable () -> Int)?) { connectionSource.withLockedValue { $0 = source } }

    /// Every node, by id, as the database says.
    func nodes() async throws -> [ClusterNode] { try await store.nodes(timeoutMs: timeoutMs) }

    /// Runs until cancelled.
    func run() async {
        while !Task.isCancelled {
            await tick()
            try? await Task.sleep(for: .milliseconds(pollMs))
        }
    }

    /// One look: membership when due, then the lease's step.
    func tick() async {
        let now = Self.monotonicNow()
        let (step, renewMembership) = state.withLockedValue { s in
            let due = now - s.lastMembershipRenewal >= s.holder.renewEveryMs
            if due { s.lastMembershipRenewal = now }
            return (s.holder.step(at: now), due)
        }
        let connections = connectionSource.withLockedValue { $0 }?() ?? 0
        if renewMembership {
            do {
                let kept = try await bounded {
                    try await $0.renew(nodeId: $1.nodeId, incarnation: $1.incarnation, connections: connections)
                }
                contact(now)
                if !kept { state.withLockedValue { $0.evicted = true } }
                let ttl = timeoutMs
                let nodes = try await bounded { store, _ in try await store.nodes(timeoutMs: ttl) }
                let peers = nodes.filter { $0.alive && $0.nodeId != node.nodeId }
                state.withLockedValue { $0.peers = peers }
                let alive = nodes.filter(\.alive).count
                TetherMetrics.clusterNodes(alive: alive, dead: nodes.count - alive)
            } catch {
                logger.warning("cannot renew membership", metadata: ["error": "\(error)"])
            }
        }
        switch step {
        case .acquire:
            do {
                let ttl = timeoutMs
                let fence = try await bounded {
                    try await $0.acquireLease(nodeId: $1.nodeId, incarnation: $1.incarnation, ttlMs: ttl)
                }
                contact(now)
                let took = state.withLockedValue { $0.holder.acquired(fence, startedAt: now) }
                if took {
                    state.withLockedValue {
                        $0.owner = node
                        $0.ownerRenewing = true
                    }
                    logger.notice("this node owns the cluster's lease", metadata: ["fence": "\(fence ?? 0)"])
                } else {
                    let ttl = timeoutMs
                    let (lease, nodes) = try await bounded { store, _ in
                        (try await store.lease(), try await store.nodes(timeoutMs: ttl))
                    }
                    let owner = lease.owner.flatMap { id in nodes.first { $0.nodeId == id } }
                    state.withLockedValue {
                        $0.owner = lease.remainingMs >= 0 ? owner : nil
                        $0.ownerRenewing = lease.remainingMs >= ttl - $0.holder.renewEveryMs - 2 * pollMs
                    }
                }
            } catch {
                logger.warning("cannot reach the lease", metadata: ["error": "\(error)"])
            }
        case .renew(let fence):
            var renewed: Bool?
            do {
                let ttl = timeoutMs
                renewed = try await bounded { store, _ in try await store.renewLease(fence: fence, ttlMs: ttl) }
                contact(now)
            } catch {
                logger.warning("cannot renew the lease", metadata: ["error": "\(error)"])
            }
            if case .fence = state.withLockedValue({ $0.holder.renewed(renewed, fence: fence, startedAt: now) }) {
                logger.error("this node lost the cluster's lease: it stops serving", metadata: ["fence": "\(fence)"])
            }
        case .fence(let fence):
            logger.error(
                "this node could not renew the cluster's lease in time: it stops serving",
                metadata: ["fence": "\(fence)"])
        case .wait:
            break
        }
        let owns = if case .owner = role { true } else { false }
        TetherMetrics.node(owner: owns, reachable: reachable)
    }

    /// The database did not answer within the keeper's bound.
    struct TimedOut: Error {}

    /// Runs one call against the database, given up (and cancelled) after half the node timeout: a database
    /// that does not answer must not stop the keeper from looking at the time, or an owner cut off from it
    /// would never fence itself.
    private func bounded<T: Sendable>(_ call: @escaping @Sendable (PostgresStore, ClusterNode) async throws -> T)
        async throws -> T
    {
        let store = store
        let node = node
        let limit = max(timeoutMs / 2, 50)
        // Unstructured: a call stuck in the driver (a pool waiting for a connection) must not hold the keeper
        // even if it ignores cancellation.
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let resumed = NIOLockedValueBox(false)
            let finish: @Sendable (Result<T, any Error>) -> Bool = { result in
                let first = resumed.withLockedValue { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(with: result) }
                return first
            }
            let work = Task {
                do {
                    _ = finish(.success(try await call(store, node)))
                } catch {
                    _ = finish(.failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: .milliseconds(limit))
                if finish(.failure(TimedOut())) { work.cancel() }
            }
        }
    }

    private func contact(_ at: Millis) {
        state.withLockedValue { $0.lastContact = max($0.lastContact, at) }
    }

    /// Gives the lease up and marks the node gone (a clean stop), so that another node takes over at once.
    func leave() async {
        let role = state.withLockedValue { s in
            defer { s.holder.released() }
            return s.holder.role
        }
        if case .owner(let fence) = role {
            _ = try? await bounded { store, _ in try await store.releaseLease(fence: fence) }
        }
        _ = try? await bounded { store, node in
            try await store.leave(nodeId: node.nodeId, incarnation: node.incarnation)
        }
    }
}
