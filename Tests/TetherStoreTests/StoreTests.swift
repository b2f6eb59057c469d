import Testing
import TetherCore
import TetherStore

/// The store suite: every test runs against the embedded SQLite store and against PostgreSQL.
@Suite struct StoreTests {
    /// A project with a reservation, a live connected session, a created session, an ended session and events.
    static func scenario() throws -> Script {
        var script = Script()
        try script.run(.createProject(id: "p", name: "Project P", policy: Policy(capacity: 5)))
        try script.open("p", user: "u1", session: "s1")
        try script.open("p", user: "u2", session: "s2")
        try script.open("p", user: "u3", session: "s3")
        script.now += 10
        let epoch = try #require(script.broker.session("s1")).epoch
        try script.run(.hello("s1", epoch: epoch, connection: 7, transport: .websocket, resumeTokenHash: "h1"))
        try script.run(.destroySession("s3"))
        try script.run(.apply("p", userId: "u4", userIp: nil))
        try script.run(.updateProject("p", ProjectPatch(name: "Renamed", capacity: 6)))
        return script
    }

    @Test(arguments: StoreKind.allCases) func everyRecordTypeRoundTrips(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var script = try Self.scenario()
            try await script.commit(to: store)
            let snapshot = try await store.load()
            #expect(snapshot == script.broker.snapshot)
            #expect(snapshot.projects.map(\.name) == ["Renamed"])
            #expect(snapshot.sessions.map(\.id) == ["s1", "s2"])
            #expect(snapshot.sessions.first?.connection == 7)
            #expect(snapshot.reservations.map(\.userId) == ["u4"])
            #expect(snapshot.cursor == script.broker.cursor)
            #expect(snapshot.cursor > 0)
        }
    }

    @Test(arguments: StoreKind.allCases) func reopeningGivesTheSameSnapshot(kind: StoreKind) async throws {
        let db = try await TestDatabase.make(kind)
        var script = try Self.scenario()
        let store = try await db.open()
        try await script.commit(to: store)
        let before = try await store.load()
        try await store.close()

        let reopened = try await db.open()
        let after = try await reopened.load()
        #expect(after == before)
        #expect(after == script.broker.snapshot)
        #expect(try await reopened.session("s3")?.state == .ended)
        #expect(try await reopened.events(after: 0, projectId: nil, limit: 1_000).last?.cursor == after.cursor)
        try await reopened.close()
        await db.remove()
    }

    @Test(arguments: StoreKind.allCases) func endedSessionsAreLeftOutOfLoadButFoundById(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var script = try Self.scenario()
            try await script.commit(to: store)
            let snapshot = try await store.load()
            #expect(!snapshot.sessions.contains { $0.id == "s3" })
            let ended = try #require(try await store.session("s3"))
            #expect(ended.state == .ended)
            #expect(ended.endReason == .destroyed)
            #expect(try await store.session("s1")?.state == .connected)
            #expect(try await store.session("nope") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func deleteProjectRemovesItAndItsReservationsButKeepsSessionsAndEvents(
        kind: StoreKind
    ) async throws {
        try await withStore(kind) { store, _ in
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy()))
            try script.run(.createProject(id: "q", name: "q", policy: Policy()))
            try script.open("p", user: "u1", session: "s1")
            try script.run(.apply("p", userId: "u2", userIp: nil))
            try script.run(.apply("q", userId: "u2", userIp: nil))
            try script.run(.deleteProject("p"))
            try await script.commit(to: store)

            let snapshot = try await store.load()
            #expect(snapshot == script.broker.snapshot)
            #expect(snapshot.projects.map(\.id) == ["q"])
            #expect(snapshot.reservations.map(\.projectId) == ["q"])
            #expect(snapshot.sessions.isEmpty)
            #expect(try await store.session("s1")?.endReason == .projectDeleted)
            #expect(try await store.sessions(in: "p", state: nil, limit: 10).map(\.id) == ["s1"])
            #expect(try await store.events(after: 0, projectId: "p", limit: 100).count > 0)
        }
    }

    @Test(arguments: StoreKind.allCases) func deleteProjectAloneDeletesTheReservationsOfTheProject(kind: StoreKind)
        async throws
    {
        try await withStore(kind) { store, _ in
            let policy = Policy()
            let p = Project(id: "p", name: "p", policy: policy, createdAt: 1, updatedAt: 1)
            let q = Project(id: "q", name: "q", policy: policy, createdAt: 1, updatedAt: 1)
            let reservations = [
                Reservation(projectId: "p", userId: "a", concurrencyId: "cc-p-1", reservedUntil: 10),
                Reservation(projectId: "p", userId: "b", concurrencyId: "cc-p-2", reservedUntil: 10),
                Reservation(projectId: "q", userId: "a", concurrencyId: "cc-q-1", reservedUntil: 10),
            ]
            try await store.enqueue([.saveProject(p), .saveProject(q)] + reservations.map { .saveReservation($0) })
                .durable()
            try await store.enqueue([.deleteProject("p")]).durable()
            let snapshot = try await store.load()
            #expect(snapshot.projects == [q])
            #expect(snapshot.reservations == [reservations[2]])
        }
    }

    /// One transaction that writes the same keys several times, deletes a project between two reservations of
    /// it, deletes one and recreates another: what is left is what the changes, in order, leave (PostgreSQL
    /// writes each table in multi-row statements, which refuse a key twice).
    @Test(arguments: StoreKind.allCases) func oneTransactionLeavesWhatItsChangesInOrderLeave(kind: StoreKind)
        async throws
    {
        try await withStore(kind) { store, _ in
            let policy = Policy()
            let p = Project(id: "p", name: "p", policy: policy, createdAt: 1, updatedAt: 1)
            let q = Project(id: "q", name: "q", policy: policy, createdAt: 1, updatedAt: 1)
            var q2 = q
            q2.name = "q again"
            let before = Reservation(projectId: "p", userId: "a", concurrencyId: "cc-p-1", reservedUntil: 10)
            let after = Reservation(projectId: "p", userId: "b", concurrencyId: "cc-p-1", reservedUntil: 20)
            let kept = Reservation(projectId: "q", userId: "a", concurrencyId: "cc-q-1", reservedUntil: 10)
            var renewed = kept
            renewed.reservedUntil = 30
            var s1 = Session(
                id: "s1", projectId: "q", userId: "a", concurrencyId: "cc-q-1", epoch: 1, state: .created, createdAt: 1)
            try await store.enqueue([
                .saveProject(p), .saveProject(q), .saveReservation(before), .saveReservation(kept),
                .saveSession(s1), .deleteProject("p"), .saveProject(p), .saveReservation(after),
                .saveReservation(renewed), .deleteProject("q"), .saveProject(q2), .saveReservation(renewed),
                .saveSession(
                    {
                        s1.epoch = 2
                        s1.state = .connected
                        return s1
                    }()),
            ]).durable()
            let snapshot = try await store.load()
            #expect(snapshot.projects.sorted { $0.id < $1.id } == [p, q2])
            #expect(snapshot.reservations.sorted { $0.projectId < $1.projectId } == [after, renewed])
            #expect(snapshot.sessions.map(\.epoch) == [2])
            #expect(snapshot.sessions.map(\.state) == [.connected])
        }
    }

    @Test(arguments: StoreKind.allCases) func deleteReservationRemovesOnlyThatUser(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let a = Reservation(projectId: "p", userId: "a", concurrencyId: "cc-p-1", reservedUntil: 10)
            let b = Reservation(projectId: "p", userId: "b", concurrencyId: "cc-p-2", reservedUntil: 10)
            try await store.enqueue([.saveReservation(a), .saveReservation(b)]).durable()
            try await store.enqueue([.deleteReservation("p", "a")]).durable()
            #expect(try await store.load().reservations == [b])
        }
    }

    @Test(arguments: StoreKind.allCases) func eventsComeInCursorOrderFilteredAndLimited(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy()))
            try script.run(.createProject(id: "q", name: "q", policy: Policy()))
            for i in 0..<4 {
                try script.open("p", user: "u\(i)", session: "p\(i)")
                try script.open("q", user: "u\(i)", session: "q\(i)")
            }
            let all = script.events
            try await script.commit(to: store)

            #expect(all.count == 16)
            #expect(try await store.events(after: 0, projectId: nil, limit: 100) == all)
            #expect(try await store.events(after: 0, projectId: "q", limit: 100) == all.filter { $0.projectId == "q" })
            let third = all[2].cursor
            #expect(try await store.events(after: third, projectId: nil, limit: 100) == Array(all.dropFirst(3)))
            #expect(try await store.events(after: 0, projectId: nil, limit: 5) == Array(all.prefix(5)))
            #expect(
                try await store.events(after: third, projectId: "p", limit: 2)
                    == Array(all.filter { $0.projectId == "p" && $0.cursor > third }.prefix(2)))
            #expect(try await store.events(after: all.last!.cursor, projectId: nil, limit: 10).isEmpty)
            #expect(try await store.events(after: .max, projectId: nil, limit: 10).isEmpty)
            #expect(try await store.events(after: 0, projectId: nil, limit: 0).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func sessionsOfAProjectAreNewestFirst(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy()))
            try script.run(.createProject(id: "q", name: "q", policy: Policy()))
            try script.open("p", user: "a", session: "sa")
            script.now += 5
            try script.open("p", user: "b", session: "sb")
            try script.open("p", user: "c", session: "sc")  // same createdAt as sb: id breaks the tie
            script.now += 5
            try script.open("p", user: "d", session: "sd")
            try script.open("q", user: "a", session: "qa")
            try script.run(.destroySession("sb"))
            try await script.commit(to: store)

            #expect(try await store.sessions(in: "p", state: nil, limit: 10).map(\.id) == ["sd", "sc", "sb", "sa"])
            #expect(try await store.sessions(in: "p", state: nil, limit: 2).map(\.id) == ["sd", "sc"])
            #expect(try await store.sessions(in: "p", state: .created, limit: 10).map(\.id) == ["sd", "sc", "sa"])
            #expect(try await store.sessions(in: "p", state: .ended, limit: 10).map(\.id) == ["sb"])
            #expect(try await store.sessions(in: "q", state: nil, limit: 10).map(\.id) == ["qa"])
            #expect(try await store.sessions(in: "none", state: nil, limit: 10).isEmpty)
        }
    }

    /// 200 batches enqueued in a row, before any ticket is awaited: the writer loop takes everything pending
    /// at the start of each transaction, so it needs far fewer transactions than batches.
    @Test(arguments: StoreKind.allCases) func batchesEnqueuedTogetherShareTransactions(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy(capacity: 200)))
            for i in 0..<200 { try script.open("p", user: "u\(i)", session: "s\(i)") }
            let batches = script.batches
            let before = store.stats

            let tickets = batches.map { store.enqueue($0) }
            for ticket in tickets { try await ticket.durable() }

            let after = store.stats
            #expect(after.batches - before.batches == batches.count)
            #expect(after.transactions - before.transactions < after.batches - before.batches)
            #expect(after.failedTransactions == 0)
            #expect(try await store.load() == script.broker.snapshot)
        }
    }

    /// Batches of distinct users enqueued from 200 concurrent tasks all become durable.
    @Test(arguments: StoreKind.allCases) func concurrentEnqueuesAllBecomeDurable(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy(capacity: 200)))
            try await script.commit(to: store)
            var perUser: [[Effect]] = []
            for i in 0..<200 {
                try script.open("p", user: "u\(i)", session: "s\(i)")
                perUser.append(Array(script.batches.joined()))
                script.batches.removeAll()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for batch in perUser {
                    group.addTask { try await store.enqueue(batch).durable() }
                }
                try await group.waitForAll()
            }
            #expect(try await store.load() == script.broker.snapshot)
            #expect(try await store.events(after: 0, projectId: "p", limit: 1_000).count == 400)
            #expect(store.stats.transactions <= store.stats.batches)
        }
    }

    /// A row the database refuses (SQLite: an event whose cursor is already written, a primary key twice;
    /// PostgreSQL, which gives cursors at commit: a text with a NUL character) fails the whole transaction: it
    /// rolls back, its ticket fails, and the next transaction goes through.
    @Test(arguments: StoreKind.allCases) func aFailingTransactionFailsItsTicketsAndWritesNothing(kind: StoreKind)
        async throws
    {
        try await withStore(kind) { store, _ in
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy()))
            try script.open("p", user: "u", session: "s")
            let event = try #require(script.events.last)
            try await script.commit(to: store)
            let before = try await store.load()

            let other = Project(id: "other", name: "other", policy: Policy(), createdAt: 1, updatedAt: 1)
            var refused = Project(id: "refused", name: "nul \u{0}", policy: Policy(), createdAt: 1, updatedAt: 1)
            if kind == .sqlite { refused.name = "fine" }
            let failing = store.enqueue(
                kind == .sqlite ? [.saveProject(other), .event(event)] : [.saveProject(other), .saveProject(refused)])
            await #expect(throws: (any Error).self) { try await failing.durable() }
            #expect(store.stats.failedTransactions == 1)
            #expect(try await store.load() == before)

            try await store.enqueue([.saveProject(other)]).durable()
            #expect(try await store.load().projects.map(\.id) == ["other", "p"])
        }
    }

    @Test(arguments: StoreKind.allCases) func effectsThatAreNotDurableCompleteAtOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let kick = Kick(connection: 1, sessionId: "s", reason: .expired)
            let ticket = store.enqueue([
                .kick(kick), .deadlineExpired(.heartbeat, latenessMs: 3), .deadlinesShifted(byMs: 9),
            ])
            try await ticket.durable()
            try await store.enqueue([]).durable()
            #expect(store.stats == GroupCommitStats())
        }
    }

    @Test(arguments: StoreKind.allCases) func theCursorIsKeptInSettingsAndLoadTakesTheHighest(kind: StoreKind)
        async throws
    {
        try await withStore(kind) { store, _ in
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy()))
            try script.open("p", user: "u", session: "s")
            let events = script.events
            try await script.commit(to: store)
            #expect(try await store.setting("cursor") == String(events.last!.cursor))

            // A transaction whose events are all older than the kept cursor does not lower it (PostgreSQL gives
            // cursors at commit: the event is committed with the next one, which the setting follows).
            var old = events[0]
            old.cursor = 0
            let ticket = store.enqueue([.event(old)])
            try await ticket.durable()
            let next = kind == .sqlite ? events.last!.cursor : events.last!.cursor + 1
            #expect(try await store.setting("cursor") == String(next))
            #expect(ticket.firstCursor == (kind == .sqlite ? 0 : next))

            // With the events pruned (here: a kept cursor ahead of them), load still returns the highest.
            try await store.setSetting("cursor", "500")
            #expect(try await store.load().cursor == 500)
            // And the next event is committed after it (PostgreSQL: wherever its broker numbered it).
            var later = events[0]
            later.cursor = kind == .sqlite ? 501 : 2
            let after = store.enqueue([.event(later)])
            try await after.durable()
            #expect(after.firstCursor == 501)
        }
    }

    @Test(arguments: StoreKind.allCases) func settingsRoundTripAndSurviveAReopen(kind: StoreKind) async throws {
        let db = try await TestDatabase.make(kind)
        let store = try await db.open()
        #expect(try await store.setting("token-secret") == nil)
        try await store.setSetting("token-secret", "one")
        try await store.setSetting("token-secret", "two")
        try await store.setSetting("api-key", "hash")
        #expect(try await store.setting("token-secret") == "two")
        try await store.close()

        let reopened = try await db.open()
        #expect(try await reopened.setting("token-secret") == "two")
        #expect(try await reopened.setting("api-key") == "hash")
        try await reopened.close()
        await db.remove()
    }

    @Test(arguments: StoreKind.allCases) func closeWritesWhatIsQueuedThenRefusesWrites(kind: StoreKind) async throws {
        let db = try await TestDatabase.make(kind)
        var script = Script()
        try script.run(.createProject(id: "p", name: "p", policy: Policy(capacity: 50)))
        for i in 0..<50 { try script.open("p", user: "u\(i)", session: "s\(i)") }
        let store = try await db.open()
        let tickets = script.batches.map { store.enqueue($0) }
        try await store.close()
        #expect(store.stats.batches == tickets.count)
        for ticket in tickets { try await ticket.durable() }

        await #expect(throws: StoreError.closed) {
            try await store.enqueue([.deleteProject("p")]).durable()
        }
        await #expect(throws: StoreError.closed) { try await store.setSetting("k", "v") }
        await #expect(throws: (any Error).self) { try await store.session("s1") }
        try await store.close()

        let reopened = try await db.open()
        #expect(try await reopened.load() == script.broker.snapshot)
        try await reopened.close()
        await db.remove()
    }
}
