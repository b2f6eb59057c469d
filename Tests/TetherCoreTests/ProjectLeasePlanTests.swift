import Testing
import TetherCore

/// The per-project lease rule (issue 14): nodes that see the same membership split the projects between them,
/// never both taking one; a node that joins gets its share handed over; a dead node's projects are taken by the
/// nodes they now place on once their leases run out; a deleted project's lease is let go.
@Suite struct ProjectLeasePlanTests {
    typealias Lease = ProjectLeasePlan.Lease
    static let projects = (0..<300).map { "p\($0)" }

    /// Every node's plan for a cluster of `nodes` where `owners` holds each project (missing: never taken).
    static func plans(_ nodes: [String], owners: [ProjectID: String], free: Set<ProjectID> = [])
        -> [String: ProjectLeasePlan]
    {
        var leases: [ProjectID: Lease] = [:]
        for (project, owner) in owners { leases[project] = Lease(owner: owner, free: free.contains(project)) }
        var out: [String: ProjectLeasePlan] = [:]
        for node in nodes {
            let held = Set(owners.filter { $0.value == node && !free.contains($0.key) }.map(\.key))
            out[node] = ProjectLeasePlan.plan(me: node, live: nodes, projects: projects, leases: leases, held: held)
        }
        return out
    }

    @Test func nodesThatSeeTheSameMembershipSplitTheProjects() {
        let plans = Self.plans(["a", "b", "c"], owners: [:])
        var taken: [ProjectID: Int] = [:]
        for plan in plans.values {
            #expect(plan.renew.isEmpty && plan.release.isEmpty && plan.waiting.isEmpty)
            for p in plan.acquire { taken[p, default: 0] += 1 }
        }
        #expect(taken.count == Self.projects.count && taken.values.allSatisfy { $0 == 1 })
        #expect(plans.values.allSatisfy { $0.acquire.count > 60 })
    }

    @Test func aSettledClusterOnlyRenews() {
        var owners: [ProjectID: String] = [:]
        for p in Self.projects { owners[p] = ProjectPlacement.owner(of: p, among: ["a", "b", "c"]) }
        for (node, plan) in Self.plans(["a", "b", "c"], owners: owners) {
            #expect(plan.acquire.isEmpty && plan.release.isEmpty && plan.waiting.isEmpty)
            #expect(plan.renew == owners.filter { $0.value == node }.map(\.key).sorted())
        }
    }

    @Test func aNodeThatJoinsGetsItsShareHandedOver() {
        var owners: [ProjectID: String] = [:]
        for p in Self.projects { owners[p] = ProjectPlacement.owner(of: p, among: ["a", "b", "c"]) }
        let plans = Self.plans(["a", "b", "c", "d"], owners: owners)
        let share = Self.projects.filter { ProjectPlacement.owner(of: $0, among: ["a", "b", "c", "d"]) == "d" }
        #expect(!share.isEmpty)
        // The old owners hand over exactly d's share; d waits for it meanwhile and takes nothing else.
        let released = plans.filter { $0.key != "d" }.flatMap(\.value.release).sorted()
        #expect(released == share.sorted())
        #expect(plans["d"]?.waiting == share.sorted() && plans["d"]?.acquire.isEmpty == true)
        // Once handed over (free), d takes them.
        var after = owners
        for p in share { after[p] = nil }
        let next = Self.plans(["a", "b", "c", "d"], owners: after)
        #expect(next["d"]?.acquire == share.sorted())
        #expect(next.filter { $0.key != "d" }.allSatisfy { $0.value.acquire.isEmpty && $0.value.release.isEmpty })
    }

    @Test func aDeadNodesProjectsAreTakenOnceTheirLeasesRunOut() {
        var owners: [ProjectID: String] = [:]
        for p in Self.projects { owners[p] = ProjectPlacement.owner(of: p, among: ["a", "b", "c"]) }
        let orphans = Set(owners.filter { $0.value == "c" }.map(\.key))
        // c is dead; its leases still run: a and b wait for the ones placed on them now.
        let waiting = Self.plans(["a", "b"], owners: owners)
        #expect(Set(waiting.values.flatMap(\.waiting)) == orphans)
        #expect(waiting.values.allSatisfy { $0.acquire.isEmpty && $0.release.isEmpty })
        // Run out: each is taken by exactly one survivor, the one it places on now.
        let taking = Self.plans(["a", "b"], owners: owners, free: orphans)
        var taken: [ProjectID: [String]] = [:]
        for (node, plan) in taking { for p in plan.acquire { taken[p, default: []].append(node) } }
        #expect(Set(taken.keys) == orphans)
        for (p, nodes) in taken { #expect(nodes == [ProjectPlacement.owner(of: p, among: ["a", "b"])!]) }
    }

    @Test func aDeletedProjectsLeaseIsLetGo() {
        let plan = ProjectLeasePlan.plan(
            me: "a", live: ["a"], projects: ["kept"], leases: ["kept": Lease(owner: "a", free: false)],
            held: ["kept", "deleted"])
        #expect(plan.renew == ["kept"] && plan.release == ["deleted"])
    }

    @Test func aNodeCountsItselfAliveAndWaitsOutItsPreviousProcessesLease() {
        // A restarted node (same id) whose old lease still runs: it must not think it holds it, nor take it yet.
        let plan = ProjectLeasePlan.plan(
            me: "a", live: [String](), projects: ["p"], leases: ["p": Lease(owner: "a", free: false)], held: [])
        #expect(plan.waiting == ["p"] && plan.acquire.isEmpty)
        let later = ProjectLeasePlan.plan(
            me: "a", live: [String](), projects: ["p"], leases: ["p": Lease(owner: "a", free: true)], held: [])
        #expect(later.acquire == ["p"])
    }
}
