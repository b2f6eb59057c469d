import Testing
import TetherCore
import TetherStore

/// `pruneEvents(keepLast:before:)`: retention by count and by age, the pruned-through mark, the cursor kept.
@Suite struct EventRetentionTests {
    /// 2 projects × 5 users, opened 1 s apart: 20 events, two per second.
    static func history(_ store: any Store) async throws -> [Event] {
        var script = Script()
        try script.run(.createProject(id: "p", name: "p", policy: Policy()))
        for i in 0..<10 {
            script.now += 1_000
            try script.open("p", user: "u\(i)", session: "s\(i)")
        }
        let events = script.events
        try await script.commit(to: store)
        return events
    }

    @Test(arguments: StoreKind.allCases) func keepsTheNewestByCountAndRecordsWhatWasPruned(kind: StoreKind) async throws
    {
        try await withStore(kind) { store, _ in
            let all = try await Self.history(store)
            #expect(try await store.eventsPrunedThrough() == 0)
            #expect(try await store.pruneEvents(keepLast: 5, before: 0) == all.count - 5)
            #expect(try await store.events(after: 0, projectId: nil, limit: 100) == Array(all.suffix(5)))
            #expect(try await store.eventsPrunedThrough() == all[all.count - 6].cursor)
            // Nothing more to prune; the cursor survives a reopen even with the table nearly empty.
            #expect(try await store.pruneEvents(keepLast: 5, before: 0) == 0)
            #expect(try await store.pruneEvents(keepLast: 0, before: 0) == 5)
            #expect(try await store.load().cursor == all.last!.cursor)
        }
    }

    @Test(arguments: StoreKind.allCases) func deletesEventsOlderThanTheCutoff(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let all = try await Self.history(store)
            let cutoff = all[7].at  // events at the same instant as all[7] are kept
            let expected = all.filter { $0.at >= cutoff }
            #expect(try await store.pruneEvents(keepLast: 1_000, before: cutoff) == all.count - expected.count)
            #expect(try await store.events(after: 0, projectId: nil, limit: 100) == expected)
            #expect(try await store.eventsPrunedThrough() == expected.first!.cursor - 1)
        }
    }

    @Test(arguments: StoreKind.allCases) func largePrunesGoInSlices(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            var script = Script()
            try script.run(.createProject(id: "p", name: "p", policy: Policy(capacity: 20_000)))
            for i in 0..<6_000 { try script.run(.apply("p", userId: "u\(i)", userIp: nil)) }
            let all = script.events
            try await script.commit(to: store)
            #expect(all.count == 6_000)
            #expect(try await store.pruneEvents(keepLast: 10, before: 0) == 5_990)
            #expect(try await store.events(after: 0, projectId: nil, limit: 100) == Array(all.suffix(10)))
        }
    }
}
