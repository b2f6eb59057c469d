import NIOConcurrencyHelpers
import ServiceLifecycle
import TetherCore

/// Ends a node's phase (owner or follower) when its part in the cluster changes: a service that returns
/// when the keeper's role is no longer `role`, which shuts the phase's service group down gracefully (the
/// owner's broker kicks its clients with `shutdown`); it also returns on a graceful shutdown (a signal).
final class RoleWatch: Service, Sendable {
    private let keeper: ClusterKeeper
    private let role: LeaseHolder.Role
    private let changedBox = NIOLockedValueBox(false)
    private let onChange: @Sendable () -> Void

    /// `onChange` runs when the role changes, before the phase's services are stopped (the owner abandons its
    /// store, so that its broker's last commits fail at once instead of waiting for a database that is gone).
    init(keeper: ClusterKeeper, role: LeaseHolder.Role, onChange: @escaping @Sendable () -> Void = {}) {
        self.keeper = keeper
        self.role = role
        self.onChange = onChange
    }

    /// Whether the watch ended because the role changed (rather than on a signal).
    var changed: Bool { changedBox.withLockedValue { $0 } }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if keeper.role != role || keeper.evicted {
                changedBox.withLockedValue { $0 = true }
                onChange()
                return
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
