/// What one node should do with the per-project leases at a look: a pure rule, like ``LeaseHolder``, for the
/// keeper that will spread projects over the nodes (issue 14). The shell reads the live nodes, the projects
/// and their leases, asks ``plan(me:live:projects:leases:held:)``, and carries the plan out against the
/// database (``acquire``, then ``Broker/adopt(_:)``; ``release``, after ``Broker/release(_:retryAfterMs:)``).
///
/// Each project goes to the node ``ProjectPlacement`` names among the live ones. A node keeps and renews what
/// is placed on it; hands over (releases) what is now placed on another live node, as when a node joins; takes
/// what is placed on it once its lease is free (expired, released, or never taken), as when its owner died or
/// handed it over; and waits while another node still holds it. Every node computes the same placement from the
/// same membership, so two nodes never both try to take a project they agree on; the leases (one owner, a fence
/// per takeover) make it safe when their views differ for a moment.
public struct ProjectLeasePlan: Sendable, Hashable {
    /// A project's lease as the node last read it.
    public struct Lease: Sendable, Hashable {
        /// Its owner, if it was ever taken.
        public var owner: String?
        /// Whether it ran out (or was released): it may be taken.
        public var free: Bool

        /// Creates a lease view.
        public init(owner: String?, free: Bool) {
            self.owner = owner
            self.free = free
        }
    }

    /// Projects to take: placed on this node, their leases free. Sorted.
    public var acquire: [ProjectID] = []
    /// Projects to keep and renew. Sorted.
    public var renew: [ProjectID] = []
    /// Projects to hand over (placed on another live node now) or to let go (deleted). Sorted.
    public var release: [ProjectID] = []
    /// Projects placed on this node that another node still holds: nothing to do until it hands them over or
    /// its lease runs out. Sorted.
    public var waiting: [ProjectID] = []

    /// Creates an empty plan.
    public init() {}

    /// The plan of node `me`, which counts itself among the `live` nodes, for `projects` (every project that
    /// exists), their `leases` (a project with no row has never been taken) and the projects it `held` at its
    /// last renewal.
    public static func plan(
        me: String, live: some Sequence<String>, projects: some Sequence<ProjectID>, leases: [ProjectID: Lease],
        held: Set<ProjectID>
    ) -> ProjectLeasePlan {
        var nodes = Set(live)
        nodes.insert(me)
        var plan = ProjectLeasePlan()
        var existing: Set<ProjectID> = []
        for project in projects {
            existing.insert(project)
            let placed = ProjectPlacement.owner(of: project, among: nodes) == me
            if held.contains(project) {
                if placed { plan.renew.append(project) } else { plan.release.append(project) }
            } else if placed {
                // Another node holds it (or this node's previous process, whose lease must run out first).
                if leases[project]?.free ?? true { plan.acquire.append(project) } else { plan.waiting.append(project) }
            }
        }
        // A project deleted while held: let its lease go.
        plan.release += held.subtracting(existing)
        plan.acquire.sort()
        plan.renew.sort()
        plan.release.sort()
        plan.waiting.sort()
        return plan
    }
}
