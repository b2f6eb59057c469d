import Foundation
import Logging
import Testing
import TetherCore
import TetherStore
import TetherTestKit

@testable import TetherServer

/// A broker service publishes its events to its feed with the cursors the store committed them with, not the
/// ones its broker numbered them with: two services that own different projects on one PostgreSQL database
/// (as per-project owners will, issue 14) number their events alike, and the store gives them one order.
struct CommittedCursorFeedTests {
    @Test func theFeedHasTheCursorsTheStoreCommittedTheEventsWith() async throws {
        let url = try await TestPostgres.createDatabase()
        let storeA = try await PostgresStore.open(try PostgresURL(url))
        let storeB = try await PostgresStore.open(try PostgresURL(url))
        let logger = Logger(label: "test")
        let a = try await BrokerService(store: storeA, time: ManualTime(1_700_000_000_000), logger: logger)
        let b = try await BrokerService(store: storeB, time: ManualTime(1_700_000_000_000), logger: logger)
        for (service, project) in [(a, "pa"), (b, "pb")] {
            _ = try await service.execute(.createProject(id: project, name: project, policy: Policy(capacity: 3)))
            for u in 0..<3 {
                _ = try await service.execute(.apply(project, userId: "u\(u)", userIp: nil))
                _ = try await service.execute(
                    .createSession(project, userId: "u\(u)", sessionId: "\(project)-\(u)", metadata: SessionMetadata()))
            }
        }
        // Both brokers numbered their events from 1.
        #expect(a.read { $0.cursor } == b.read { $0.cursor })
        let stored = try await storeA.events(after: 0, projectId: nil, limit: 1_000)
        #expect(stored.map(\.cursor) == (0..<stored.count).map { UInt64($0) + 1 })
        for (service, project) in [(a, "pa"), (b, "pb")] {
            let mine = stored.filter { $0.projectId == project }
            let first = try #require(mine.first?.cursor)
            let published = try #require(service.feed.recent(after: first - 1, projectId: project, limit: 1_000))
            #expect(published.events == mine, "\(project)")
            #expect(service.feed.durableCursor == mine.last?.cursor)
        }
        try await storeA.close()
        try await storeB.close()
        await TestPostgres.dropDatabase(url)
    }
}
