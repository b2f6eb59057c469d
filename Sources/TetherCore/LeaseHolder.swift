/// The cluster's lease as one node sees it: whether this node owns it (runs the broker) and until when it may
/// believe so. A pure rule, like ``Broker``: the shell asks ``step(at:)`` what to do, does it against the
/// database, and reports the outcome with the time the attempt *started*.
///
/// The database grants a lease for `ttlMs` from the moment it runs the statement, which is after the attempt
/// started; so a node that counts `ttlMs` from the start of its last successful attempt stops believing it
/// owns the lease no later than the database lets another node take it. The rule keeps a further margin
/// (``marginMs``) for clocks that run at slightly different rates. A node that cannot renew in time fences
/// itself (``Step/fence(_:)``): it stops serving before any other node can have taken over.
public struct LeaseHolder: Sendable, Hashable {
    /// This node's part.
    public enum Role: Sendable, Hashable {
        /// Another node owns the lease, or nobody does yet.
        case follower
        /// This node owns the lease under `fence`.
        case owner(fence: Int64)
    }

    /// What the shell should do now.
    public enum Step: Sendable, Hashable {
        /// Try to take the lease (it is taken only when it expired or was released).
        case acquire
        /// Extend the lease held under `fence`.
        case renew(fence: Int64)
        /// Nothing until the next renewal is due.
        case wait
        /// The lease held under `fence` ran out before it could be renewed: stop serving at once.
        case fence(Int64)
    }

    /// How long a grant or renewal lasts (the node timeout).
    public let ttlMs: Millis
    /// How often the owner renews.
    public let renewEveryMs: Millis
    /// Taken off the lease's end, for clocks that do not run at quite the same rate.
    public let marginMs: Millis
    /// This node's part now.
    public private(set) var role = Role.follower
    /// Until when the owner may act as the owner (meaningful while ``role`` is `owner`).
    public private(set) var validUntil: Millis = 0
    private var lastRenewalAt: Millis = 0

    /// A follower that renews every fifth of `ttlMs` once it owns the lease.
    public init(ttlMs: Millis) {
        self.ttlMs = max(ttlMs, 1)
        self.renewEveryMs = max(self.ttlMs / 5, 1)
        self.marginMs = min(self.ttlMs / 10, 500)
    }

    /// What to do at `now`.
    public mutating func step(at now: Millis) -> Step {
        switch role {
        case .follower:
            return .acquire
        case .owner(let fence):
            if now >= validUntil {
                role = .follower
                return .fence(fence)
            }
            return now - lastRenewalAt >= renewEveryMs ? .renew(fence: fence) : .wait
        }
    }

    /// An ``Step/acquire`` that started at `startedAt` gave `fence` (nil: another node holds the lease).
    /// Returns whether this node became the owner.
    @discardableResult
    public mutating func acquired(_ fence: Int64?, startedAt: Millis) -> Bool {
        guard role == .follower, let fence else { return false }
        role = .owner(fence: fence)
        validUntil = startedAt + ttlMs - marginMs
        lastRenewalAt = startedAt
        return true
    }

    /// A ``Step/renew(fence:)`` that started at `startedAt` answered: `true` renewed, `false` the lease is
    /// no longer held under that fence (another node took it), nil the database could not be asked (the lease
    /// runs on until ``validUntil``). Returns ``Step/fence(_:)`` when this node must stop serving now.
    public mutating func renewed(_ renewed: Bool?, fence: Int64, startedAt: Millis) -> Step? {
        guard role == .owner(fence: fence) else { return nil }
        switch renewed {
        case true?:
            validUntil = max(validUntil, startedAt + ttlMs - marginMs)
            lastRenewalAt = startedAt
            return nil
        case false?:
            role = .follower
            return .fence(fence)
        case nil:
            lastRenewalAt = startedAt  // try again at the next renewal time, not at once in a loop
            return nil
        }
    }

    /// This node gave the lease up (a clean stop).
    public mutating func released() {
        role = .follower
        validUntil = 0
    }

    /// Whether this node may act as the owner at `now`.
    public func owns(at now: Millis) -> Bool {
        if case .owner = role { return now < validUntil }
        return false
    }
}
