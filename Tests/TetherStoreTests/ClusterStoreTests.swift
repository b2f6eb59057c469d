import Foundation
import Synchronization
import Testing
import TetherCore
import TetherStore
import TetherTestKit

/// The cluster's rows in PostgreSQL: membership (a live node's id cannot be taken, a dead one's can), the
/// lease (one owner at a time, a fence raised at each takeover) and fenced writes (a node that lost the lease
/// writes nothing more).
@Suite struct ClusterStoreTests {
    static func node(_ id: String, incarnation: String = UUID().uuidString) -> ClusterNode {
        ClusterNode(
            nodeId: id, incarnation: incarnation, publicHost: "127.0.0.1", apiPort: 8080, clientPort: 8081,
            tcpPort: 7070)
    }

    static func withPostgres(_ body: (PostgresStore, PostgresStore, TestDatabase) async throws -> Void)
        async throws
    {
        let db = try await TestDatabase.make(.postgres)
        let url = try PostgresURL(db.location)
        let a = try await PostgresStore.open(url)
        let b = try await PostgresStore.open(url)
        do {
            try await body(a, b, db)
        } catch {
            try? await a.close()
            try? await b.close()
            await db.remove()
            throw error
        }
        try await a.close()
        try await b.close()
        await db.remove()
    }

    /// A node id is held by one live process: a second open with it is refused; once the holder's connection
    /// is gone (closed, or its process killed) the id is free at once.
    @Test func aLiveNodesIdIsRefusedAndFreedWithItsConnection() async throws {
        let db = try await TestDatabase.make(.postgres)
        let url = try PostgresURL(db.location)
        let holder = try await PostgresStore.open(url, nodeId: "n1")
        let other = try await PostgresStore.open(url, nodeId: "n2")
        await #expect {
            let second = try await PostgresStore.open(url, nodeId: "n1")
            try await second.close()
        } throws: { error in
            guard case StoreError.inUse(let why) = error else { return false }
            return why.contains("n1") && why.contains("--node-id")
        }
        try await holder.close()
        // PostgreSQL frees the lock when the holder's backend has gone, a moment after the connection closed (up
        // to 30 s here: a loaded fresh-clone CI run saw no open succeed within 10 s).
        var again: PostgresStore?
        var lastError: (any Error)?
        _ = await eventually(within: .seconds(30)) {
            do {
                again = try await PostgresStore.open(url, nodeId: "n1")
            } catch {
                lastError = error
            }
            return again != nil
        }
        #expect(again != nil, "the last open failed with \(String(describing: lastError))")
        try await again?.close()
        try await other.close()
        await db.remove()
    }

    /// Membership rows: alive while renewed within the timeout; a re-registered id belongs to the new
    /// incarnation, and the old one learns it when it renews.
    @Test func membershipIsJudgedOnTheDatabasesClock() async throws {
        try await Self.withPostgres { a, b, db in
            let first = Self.node("n1")
            try await a.register(first)
            try await b.register(Self.node("n2"))
            var nodes = try await a.nodes(timeoutMs: 60_000)
            #expect(nodes.map(\.nodeId) == ["n1", "n2"])
            #expect(nodes.allSatisfy { $0.alive })
            try await db.execute("UPDATE tether_nodes SET last_seen_at = last_seen_at - 120000 WHERE node_id = 'n1'")
            nodes = try await a.nodes(timeoutMs: 60_000)
            #expect(nodes.first { $0.nodeId == "n1" }?.alive == false)
            let second = Self.node("n1")
            try await b.register(second)
            #expect(try await a.nodes(timeoutMs: 60_000).first { $0.nodeId == "n1" }?.alive == true)
            #expect(try await a.renew(nodeId: "n1", incarnation: first.incarnation, connections: 3) == false)
            #expect(try await b.renew(nodeId: "n1", incarnation: second.incarnation, connections: 3))
            #expect(try await a.nodes(timeoutMs: 60_000).first { $0.nodeId == "n1" }?.connections == 3)
            try await b.leave(nodeId: "n1", incarnation: second.incarnation)
            #expect(try await a.nodes(timeoutMs: 60_000).first { $0.nodeId == "n1" }?.alive == false)
        }
    }

    @Test func oneOwnerAtATimeAndEachTakeoverRaisesTheFence() async throws {
        try await Self.withPostgres { a, b, db in
            let fence = try #require(try await a.acquireLease(nodeId: "n1", incarnation: "i1", ttlMs: 60_000))
            #expect(try await b.acquireLease(nodeId: "n2", incarnation: "i2", ttlMs: 60_000) == nil)
            #expect(try await a.renewLease(fence: fence, ttlMs: 60_000))
            var lease = try await b.lease()
            #expect(lease.owner == "n1" && lease.fence == fence && lease.remainingMs > 50_000)
            // n1's lease runs out: n2 takes it under a higher fence, and n1 can no longer renew.
            try await db.execute("UPDATE tether_lease SET expires_at = expires_at - 120000")
            let next = try #require(try await b.acquireLease(nodeId: "n2", incarnation: "i2", ttlMs: 60_000))
            #expect(next == fence + 1)
            #expect(try await a.renewLease(fence: fence, ttlMs: 60_000) == false)
            // Released: the next taker need not wait.
            try await b.releaseLease(fence: next)
            lease = try await a.lease()
            #expect(lease.remainingMs < 0)
            #expect(try await a.acquireLease(nodeId: "n1", incarnation: "i1", ttlMs: 60_000) == next + 1)
        }
    }

    /// A node whose lease was taken over writes nothing more: its transaction fails as a whole with
    /// `fenced`, and the successor's rows stay as they are.
    @Test func writesUnderAnOldFenceAreRefusedWhole() async throws {
        try await Self.withPostgres { a, b, db in
            let fence = try #require(try await a.acquireLease(nodeId: "n1", incarnation: "i1", ttlMs: 60_000))
            a.fence(with: fence)
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy()))
            try await script.commit(to: a)  // under the current fence: written
            try await db.execute("UPDATE tether_lease SET expires_at = 0")
            let next = try #require(try await b.acquireLease(nodeId: "n2", incarnation: "i2", ttlMs: 60_000))
            b.fence(with: next)
            try script.open("p", user: "u", session: "s")
            var retry = script  // the same batches, for the new owner
            await #expect {
                try await script.commit(to: a)
            } throws: { error in
                guard case StoreError.fenced(let why) = error else { return false }
                return why.contains("fence \(fence)")
            }
            #expect(try await b.session("s") == nil)
            #expect(try await b.load().projects.map(\.id) == ["p"])
            // The new owner writes.
            try await retry.commit(to: b)
            #expect(try await b.session("s") != nil)
        }
    }

    /// A commit with events tells the other nodes (`NOTIFY tether_events`) after it: a listener on another store
    /// hears a cursor no lower than the last event written, and reads every event up to it.
    @Test func aCommitWithEventsIsToldToListeners() async throws {
        try await Self.withPostgres { writer, reader, _ in
            let heard = Heard()
            let listening = Task { try await reader.listenForEvents { heard.add($0) } }
            defer { listening.cancel() }
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy()))
            try await script.commit(to: writer)
            // The listener may not be listening yet: commit again until it hears one.
            var last: UInt64 = 0
            let told = try await eventually(within: .seconds(20)) {
                try script.open("p", user: "u\(last)", session: "s\(last)")
                last = script.events.last?.cursor ?? 0
                try await script.commit(to: writer)
                return await eventually(within: .seconds(1)) { heard.max >= last }
            }
            #expect(told, "a notice named cursor \(last) (heard \(heard.max))")
            #expect(try await reader.lastEventCursor() == last)
            let events = try await reader.events(after: 0, projectId: nil, limit: 1_000)
            #expect(events.last?.cursor == last)
        }
    }
}

/// The cursors a listener heard.
final class Heard: Sendable {
    private let state = Mutex<[UInt64]>([])
    func add(_ cursor: UInt64) { state.withLock { $0.append(cursor) } }
    var max: UInt64 { state.withLock { $0.max() ?? 0 } }
    var count: Int { state.withLock { $0.count } }
}
