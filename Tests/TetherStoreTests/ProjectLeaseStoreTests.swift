import Foundation
import Testing
import TetherCore
import TetherStore
import TetherTestKit

/// Per-project leases in PostgreSQL (issue 14): one owner per project, a fence raised at each takeover, many
/// projects per statement; a write that changes a project's rows is refused whole unless the node still holds
/// that project's lease; a takeover loads the rows of its projects alone.
@Suite struct ProjectLeaseStoreTests {
    static let ttl: Int64 = 60_000

    @Test func eachProjectHasOneOwnerAndATakeoverRaisesItsFence() async throws {
        try await ClusterStoreTests.withPostgres { a, b, db in
            let taken = try await a.acquireProjectLeases(
                ["p1", "p2"], nodeId: "n1", incarnation: "i1", ttlMs: Self.ttl)
            #expect(taken == ["p1": 1, "p2": 1])
            // Held: another node gets none of them, but takes a free one.
            let other = try await b.acquireProjectLeases(
                ["p1", "p2", "p3"], nodeId: "n2", incarnation: "i2", ttlMs: Self.ttl)
            #expect(other == ["p3": 1])
            let leases = try await a.projectLeases()
            #expect(leases["p1"]?.owner == "n1" && leases["p2"]?.owner == "n1" && leases["p3"]?.owner == "n2")
            #expect(leases["*"] == nil && leases.values.allSatisfy { $0.remainingMs > 0 })
            #expect(try await a.renewProjectLeases(["p1": 1, "p2": 1], ttlMs: Self.ttl) == ["p1", "p2"])
            // p1's owner stops renewing: once expired, the other node takes it under fence 2, and the former
            // owner's renewal leaves it out.
            try await db.execute("UPDATE tether_lease SET expires_at = 0 WHERE scope = 'p1'")
            #expect(
                try await b.acquireProjectLeases(["p1"], nodeId: "n2", incarnation: "i2", ttlMs: Self.ttl) == ["p1": 2])
            #expect(try await a.renewProjectLeases(["p1": 1, "p2": 1], ttlMs: Self.ttl) == ["p2"])
            // A release hands over at once; a release under an old fence does nothing.
            try await a.releaseProjectLeases(["p2": 1, "p1": 1])
            #expect(
                try await b.acquireProjectLeases(["p2"], nodeId: "n2", incarnation: "i2", ttlMs: Self.ttl) == ["p2": 2])
            let after = try await a.projectLeases()
            #expect(after["p1"]?.owner == "n2" && after["p1"]?.fence == 2 && (after["p1"]?.remainingMs ?? 0) > 0)
            // The cluster-wide lease is never taken, renewed or released through these calls.
            #expect(try await a.acquireProjectLeases(["*"], nodeId: "n1", incarnation: "i1", ttlMs: Self.ttl).isEmpty)
            #expect(try await a.lease().owner == nil)
        }
    }

    @Test func aWriteToAProjectWhoseLeaseWasTakenOverIsRefusedWhole() async throws {
        try await ClusterStoreTests.withPostgres { a, b, db in
            let fences = try await a.acquireProjectLeases(
                ["p1", "p2"], nodeId: "n1", incarnation: "i1", ttlMs: Self.ttl)
            a.fence(projects: fences)
            var one = Script()
            try one.run(.createProject(id: "p1", name: "p1", policy: Policy()))
            try await one.commit(to: a)
            var two = Script()
            try two.run(.createProject(id: "p2", name: "p2", policy: Policy()))
            try await two.commit(to: a)

            try await db.execute("UPDATE tether_lease SET expires_at = 0 WHERE scope = 'p1'")
            let next = try await b.acquireProjectLeases(["p1"], nodeId: "n2", incarnation: "i2", ttlMs: Self.ttl)
            b.fence(projects: next)
            try one.open("p1", user: "u", session: "s1")
            var retry = one  // the same batches, for the new owner
            await #expect {
                try await one.commit(to: a)
            } throws: { error in
                guard case StoreError.fenced(let why) = error else { return false }
                return why.contains("p1")
            }
            #expect(try await b.session("s1") == nil)
            // Its other project is still its own.
            try two.open("p2", user: "u", session: "s2")
            try await two.commit(to: a)
            #expect(try await b.session("s2") != nil)
            // A project it never held is refused too.
            var three = Script()
            try three.run(.createProject(id: "p3", name: "p3", policy: Policy()))
            await #expect(throws: StoreError.self) { try await three.commit(to: a) }
            #expect(try await b.load().projects.map(\.id) == ["p1", "p2"])
            // The new owner writes p1.
            try await retry.commit(to: b)
            #expect(try await b.session("s1") != nil)
        }
    }

    @Test func aTakeoverLoadsTheRowsOfItsProjectsAlone() async throws {
        try await ClusterStoreTests.withPostgres { a, _, _ in
            for project in ["p1", "p2", "p3"] {
                var script = Script()
                try script.run(.createProject(id: project, name: project, policy: Policy(capacity: 4)))
                try script.open(project, user: "u1", session: "\(project)-s1")
                try script.open(project, user: "u2", session: "\(project)-s2")
                try script.run(.apply(project, userId: "u3", userIp: nil))
                try await script.commit(to: a)
            }
            let all = try await a.load()
            #expect(all.projects.count == 3 && all.sessions.count == 6 && all.reservations.count == 3)
            for subset: Set<ProjectID> in [["p2"], ["p1", "p3"], [], ["nope"]] {
                #expect(try await a.load(projects: subset) == all.only(subset), "\(subset)")
            }
        }
    }
}
