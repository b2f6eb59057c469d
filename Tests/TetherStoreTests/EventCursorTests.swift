import Logging
import PostgresNIO
import Synchronization
import Testing
import TetherCore
import TetherStore
import TetherTestKit

/// Event cursors given at commit (issue 14: several owners write events to one PostgreSQL): writers whose
/// brokers numbered their events alike get one order of cursors without a gap, each batch learns the cursors
/// its events were committed with, and a reader never sees a cursor commit below one it has already seen.
@Suite struct EventCursorTests {
    /// A script of its own for one project: its broker numbers its events from 1, like every other writer's.
    static func script(_ project: ProjectID, users: Int) throws -> Script {
        var script = Script()
        try script.run(.createProject(id: project, name: project, policy: Policy(capacity: users)))
        for u in 0..<users { try script.open(project, user: "u\(u)", session: "\(project)-s\(u)") }
        return script
    }

    /// Enqueues every batch of `script` and returns each with its ticket, once all are durable.
    static func commit(_ script: Script, to store: any Store) async throws -> [([Event], CommitTicket)] {
        var out: [([Event], CommitTicket)] = []
        for batch in script.batches {
            let events = batch.compactMap { effect -> Event? in if case .event(let e) = effect { e } else { nil } }
            out.append((events, store.enqueue(batch)))
        }
        for (_, ticket) in out { try await ticket.durable() }
        return out
    }

    @Test func twoWritersGetOneOrderOfCursorsAndEachBatchLearnsItsOwn() async throws {
        try await ClusterStoreTests.withPostgres { a, b, _ in
            let first = try Self.script("pa", users: 20)
            let second = try Self.script("pb", users: 20)
            // Both brokers numbered their events 1, 2, 3…
            #expect(first.events.first?.cursor == 1 && second.events.first?.cursor == 1)
            async let fromA = Self.commit(first, to: a)
            async let fromB = Self.commit(second, to: b)
            let committed = try await fromA + fromB
            let stored = try await a.events(after: 0, projectId: nil, limit: 10_000)
            let total = first.events.count + second.events.count
            #expect(stored.map(\.cursor) == Array(1...UInt64(total)))
            // Each writer's events keep their own order.
            #expect(stored.filter { $0.projectId == "pa" }.map(\.type) == first.events.map(\.type))
            #expect(stored.filter { $0.projectId == "pb" }.map(\.type) == second.events.map(\.type))
            // Each batch's events, numbered from its ticket's first cursor, are the rows the store holds.
            let byCursor = Dictionary(uniqueKeysWithValues: stored.map { ($0.cursor, $0) })
            for (events, ticket) in committed where !events.isEmpty {
                for event in ticket.committed(events) {
                    let row = try #require(byCursor[event.cursor])
                    #expect(row.projectId == event.projectId && row.type == event.type && row.at == event.at)
                    #expect(row.sessionId == event.sessionId && row.userId == event.userId)
                }
            }
            // And the next writer starts after them (what a new owner's broker restores).
            #expect(try await b.load().cursor == UInt64(total))
        }
    }

    /// While one transaction holds the cursor row, every commit that writes events waits; a reader polling all
    /// the while sees only gap-free prefixes of the order, never a cursor above one still to come.
    @Test func aReaderNeverSeesACursorCommitLate() async throws {
        try await ClusterStoreTests.withPostgres { a, b, db in
            let url = try PostgresURL(db.location)
            let logger = Logger(label: "test.blocker")
            let configuration = PostgresConnection.Configuration(
                host: url.host, port: url.port, username: url.username, password: url.password,
                database: url.database, tls: .disable)
            let blocker = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            let watcher = try await PostgresConnection.connect(configuration: configuration, id: 2, logger: logger)
            _ = try await blocker.query("BEGIN", logger: logger)
            _ = try await blocker.query("SELECT last FROM tether_event_seq WHERE id = 1 FOR UPDATE", logger: logger)

            let writers = (0..<4).map { i in try? Self.script("p\(i)", users: 5) }.compactMap { $0 }
            let total = writers.reduce(0) { $0 + $1.events.count }
            let commits = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (i, script) in writers.enumerated() {
                        group.addTask { _ = try await Self.commit(script, to: i % 2 == 0 ? a : b) }
                    }
                    try await group.waitForAll()
                }
            }
            // Both stores' writers reach the cursor row and wait for it; meanwhile nothing they wrote is seen.
            let waiting = try await eventually(within: .seconds(30)) {
                var count = 0
                for try await n in try await watcher.query(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock'
                    """, logger: logger
                ).decode(Int.self) {
                    count = n
                }
                return count >= 2
            }
            #expect(waiting, "both writers wait for the cursor row")
            #expect(try await a.events(after: 0, projectId: nil, limit: 10_000).isEmpty)
            #expect(try await a.session("p0-s0") == nil, "a waiting transaction is not committed")

            let seen = Mutex<[[UInt64]]>([])
            let reading = Task {
                while !Task.isCancelled {
                    let cursors = try await a.events(after: 0, projectId: nil, limit: 10_000).map(\.cursor)
                    seen.withLock { $0.append(cursors) }
                    if cursors.count == total { return }
                }
            }
            _ = try await blocker.query("COMMIT", logger: logger)
            try await commits.value
            try await reading.value
            try await blocker.close()
            try await watcher.close()
            let reads = seen.withLock { $0 }
            #expect(!reads.isEmpty)
            for cursors in reads { #expect(cursors == (0..<cursors.count).map { UInt64($0) + 1 }) }
            #expect(reads.last == Array(1...UInt64(total)))
        }
    }
}
