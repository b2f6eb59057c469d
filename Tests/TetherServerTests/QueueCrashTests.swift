import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// The waiting queue is durable (issue 15, item 2): a `tether serve` killed with SIGKILL comes back with every
/// ticket, its order, and an offer with its deadline, which then lapses on time and passes on. The offer lasts
/// 20 s: the kill and the restart must fit in it on a loaded machine (with 4 s, a full local run saw the offer
/// lapse during the restart and pass on before the test looked).
@Suite struct QueueCrashTests {
    @Test func aKilledServerComesBackWithItsQueueInOrderAndItsOfferDeadline() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        let backend = server.backend
        _ = try await backend.createProject(
            id: "p", policy: .init(capacity: 1, queue: .init(enabled: true, offerTtlMs: 20_000)))
        _ = try await backend.apply(project: "p", userId: "holder")
        let holder = try await backend.createSession(project: "p", userId: "holder")
        for (user, priority) in [("a", 0), ("b", 3), ("c", 0)] {
            guard case .queued = try await backend.applyQueued(project: "p", userId: user, priority: priority) else {
                Issue.record("\(user) should be queued")
                return
            }
        }
        _ = try await backend.destroySession(holder.sessionId)
        let before = try await backend.queue(project: "p")
        #expect(before.tickets.map(\.userId) == ["b", "a", "c"])
        let offer = try #require(before.tickets.first)
        #expect(offer.state == "offered" && offer.concurrencyId == holder.concurrencyId)

        await server.process.kill9()
        try await server.restart()
        let after = try await backend.queue(project: "p")
        #expect(after.tickets.map(\.ticketId) == before.tickets.map(\.ticketId))
        #expect(after.tickets.map(\.state) == ["offered", "waiting", "waiting"])
        #expect(after.tickets.first?.reservedUntil == offer.reservedUntil, "the offer keeps its deadline")
        #expect(after.tickets.map(\.position) == [0, 1, 2])

        // b never takes it: at its deadline the offer passes to a.
        let passed = try await eventually(within: .seconds(60), every: .milliseconds(100)) {
            (try await backend.queue(project: "p")).tickets.first.map { $0.userId == "a" && $0.state == "offered" }
                ?? false
        }
        #expect(passed, "the lapsed offer went to the next ticket")
        // The queue's state is the broker's at once; its events are listed once committed (a moment later; a
        // loaded run once listed them before).
        let left = try await eventually(within: .seconds(30), every: .milliseconds(100)) {
            try await backend.events(project: "p", limit: 1_000).events.contains {
                $0.type == "queue.left" && $0.userId == "b" && $0.data.reason == "offerExpired"
            }
        }
        let listed = try await backend.events(project: "p", limit: 1_000).events.map { "\($0.type) \($0.userId)" }
        #expect(left, "\(listed)")
    }
}
