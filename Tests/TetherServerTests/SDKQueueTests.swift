import Foundation
import Synchronization
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// The Swift SDK waits in a full pool's queue (issue 15, item 3): `TetherQueueWaiter` yields the place, follows
/// it as it moves, yields the offer, and ends when the backend took it; a cancelled ticket ends it with `Left`.
@Suite struct SDKQueueTests {
    /// A full pool (capacity 1, held by a session) with its queue on; the holder's session.
    static func fullPool(_ server: SDKServer) async throws -> TetherBackend.CreatedSession {
        _ = try await server.backend.createProject(
            id: "p",
            policy: .init(capacity: 1, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 2_000, queue: .init(enabled: true))
        )
        _ = try await server.backend.apply(project: "p", userId: "holder")
        return try await server.backend.createSession(project: "p", userId: "holder")
    }

    static func queued(_ server: SDKServer, _ user: String) async throws -> TetherBackend.Queued {
        guard case .queued(let queued) = try await server.backend.applyQueued(project: "p", userId: user) else {
            throw Unexpected()
        }
        return queued
    }

    struct Unexpected: Error {}

    /// The updates a waiter yielded, and how it ended.
    final class Seen: Sendable {
        let updates = Mutex<[TetherQueueWaiter.Update]>([])
        let end = Mutex<String?>(nil)
        var all: [TetherQueueWaiter.Update] { updates.withLock { $0 } }
        var ended: String? { end.withLock { $0 } }
    }

    static func follow(_ waiter: TetherQueueWaiter) -> (Seen, Task<Void, Never>) {
        let seen = Seen()
        let task = Task {
            do {
                for try await update in waiter.updates() { seen.updates.withLock { $0.append(update) } }
                seen.end.withLock { $0 = "finished" }
            } catch {
                seen.end.withLock { $0 = "\(error)" }
            }
        }
        return (seen, task)
    }

    @Test(arguments: TetherClient.Transport.allCases)
    func aWaiterFollowsItsPlaceTakesTheOfferAndEnds(transport: TetherClient.Transport) async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        let holder = try await Self.fullPool(server)
        _ = try await Self.queued(server, "first")
        let queued = try await Self.queued(server, "u")
        #expect(queued.position == 2)
        let connect = try #require(queued.connect)
        let url = transport == .tcp ? try #require(connect.tcp) : connect.websocket
        let endpoint = try #require(TetherEndpoint(url: url))
        let (seen, task) = Self.follow(
            TetherQueueWaiter(queueToken: queued.queueToken, endpoint: endpoint, pingEvery: .milliseconds(300)))
        defer { task.cancel() }
        #expect(await eventually(within: .seconds(30)) { seen.positions.first == 2 }, "\(seen.all)")
        if case .place(let ticketId, _, _) = seen.all.first { #expect(ticketId == queued.ticketId) }
        _ = try await server.backend.cancelQueueTicket(project: "p", userId: "first")
        #expect(await eventually(within: .seconds(30)) { seen.positions.last == 1 }, "\(seen.all)")
        _ = try await server.backend.destroySession(holder.sessionId)
        #expect(await eventually(within: .seconds(30)) { seen.offer != nil }, "\(seen.all)")
        #expect(seen.offer?.concurrencyId == holder.concurrencyId)
        let session = try await server.backend.createSession(project: "p", userId: "u")
        #expect(session.concurrencyId == holder.concurrencyId)
        #expect(await eventually(within: .seconds(30)) { seen.ended != nil })
        #expect(seen.ended == "finished", "the offer was taken: the waiter ends without an error")
    }

    @Test func aCancelledTicketEndsTheWaiterWithWhy() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        _ = try await Self.fullPool(server)
        let queued = try await Self.queued(server, "u")
        let connect = try #require(queued.connect)
        let endpoint = try #require(TetherEndpoint(url: connect.websocket))
        let (seen, task) = Self.follow(TetherQueueWaiter(queueToken: queued.queueToken, endpoint: endpoint))
        defer { task.cancel() }
        #expect(await eventually(within: .seconds(10)) { !seen.positions.isEmpty })
        #expect(try await server.backend.queue(project: "p").tickets.first?.clientConnected == true)
        _ = try await server.backend.cancelQueueTicket(project: "p", userId: "u")
        #expect(await eventually(within: .seconds(30)) { seen.ended != nil })
        #expect(seen.ended == "\(TetherQueueWaiter.Left(reason: "destroyed"))")
    }
}

extension SDKQueueTests.Seen {
    /// The positions yielded, in order.
    var positions: [Int] { all.compactMap { if case .place(_, let p, _) = $0 { p } else { nil } } }
    /// The offer, once yielded.
    var offer: (concurrencyId: String, reservedUntil: Int64)? {
        for update in all { if case .offered(let c, let r) = update { return (c, r) } }
        return nil
    }
}
