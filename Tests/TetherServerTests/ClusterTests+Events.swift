import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// The event feed and kicks across nodes (issue 14, item 6): one order for the whole cluster, each event once,
/// on every node; a DestroySession or a new epoch decided through one node reaches the client on another.
extension ClusterTests {
    /// Three writers race apply, create and destroy through three nodes while a reader on a fourth follows
    /// the SSE stream: it sees exactly the feed `GET /v1/events` gives, every event once, in cursor order. (One
    /// node, the owner, numbers and commits every event, in order, so a cursor taken early cannot commit late;
    /// the race is the writers', through three nodes and the group commit's batches.)
    @Test func aReaderOnAFourthNodeSeesEveryWritersEventsOnceInOrder() async throws {
        let cluster = try await Nodes(count: 4)
        defer { cluster.stop() }
        _ = try #require(try await cluster.owner(from: 3))
        let backends = (0..<4).map { TetherBackend(url: api(cluster, $0), apiKey: Self.key) }
        _ = try await backends[0].createProject(id: "p", policy: .init(capacity: 30))
        let seen = SeenEvents()
        let reader = Task {
            for try await message in TetherEventStream(url: api(cluster, 3), apiKey: Self.key).follow(after: 0) {
                seen.add(message.id ?? "")
            }
        }
        defer { reader.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<3 {
                group.addTask {
                    for i in 0..<10 {
                        let user = "w\(writer)-\(i)"
                        _ = try await backends[writer].apply(project: "p", userId: user)
                        let created = try await backends[(writer + 1) % 3].createSession(project: "p", userId: user)
                        if i % 2 == 0 { _ = try await backends[(writer + 2) % 3].destroySession(created.sessionId) }
                    }
                }
            }
            try await group.waitForAll()
        }
        // The feed as any node serves it, page by page.
        var truth: [String] = []
        var after: UInt64 = 0
        while true {
            let page = try await backends[Int.random(in: 0..<4)].events(after: after, limit: 1_000)
            if page.events.isEmpty { break }
            truth += page.events.map { String($0.cursor) }
            after = page.nextCursor
        }
        #expect(truth.count >= 3 * 10 * 3, "apply, create and some destroys of 30 users")
        let caughtUp = await eventually(within: .seconds(15)) { seen.all.last == truth.last }
        #expect(caughtUp, "the reader saw \(seen.all.count) of \(truth.count) events")
        #expect(seen.all == truth, "the reader's cursors, in order, are the feed's")
        let numbers = truth.compactMap { UInt64($0) }
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 }, "cursors grow strictly")
    }

    /// A change acknowledged through the owner is in the next `GET /v1/events` on a follower (API.md: "a change
    /// acknowledged by one node is seen by the next call to any node"). A follower's mirror reads nothing while
    /// no stream follows it, so each page brings it up to date first; before, a page served from the mirror
    /// could be one notice (up to 20 ms) behind.
    @Test func aFollowersPageHasWhatTheOwnerJustAcknowledged() async throws {
        let cluster = try await Nodes(count: 2)
        defer { cluster.stop() }
        let owner = cluster.index(of: try #require(try await cluster.owner(from: 0)))
        let follower = 1 - owner
        let writer = TetherBackend(url: api(cluster, owner), apiKey: Self.key)
        let reader = TetherBackend(url: api(cluster, follower), apiKey: Self.key)
        _ = try await writer.createProject(id: "p", policy: .init(capacity: 100))
        var after = try await reader.events(after: 0, limit: 1_000).nextCursor
        for i in 0..<40 {
            let applied = try await writer.apply(project: "p", userId: "u\(i)")
            let page = try await reader.events(after: after, limit: 1_000)
            let reserved = page.events.contains {
                $0.type == "concurrency.reserved" && $0.concurrencyId == applied.concurrencyId && $0.userId == "u\(i)"
            }
            #expect(reserved, "apply \(i): the follower's next page (after \(after)) has its event")
            after = max(after, page.nextCursor)
        }
    }

    /// Every node serves the event log itself (its ``EventMirror``, fed by the owner's `NOTIFY`), so an SSE stream
    /// on a follower does not end when the owner is killed: on the same connection, the reader sees the session
    /// the dead owner held go to grace with cause `nodeLost`, committed by the node that took over. (While a
    /// follower forwarded the stream to the owner, the kill ended it.)
    @Test func aFollowersEventStreamOutlivesTheOwner() async throws {
        let cluster = try await Nodes(count: 3)
        defer { cluster.stop() }
        let owner = try #require(try await cluster.owner(from: 1))
        let o = cluster.index(of: owner)
        let follower = (o + 1) % 3
        #expect(try await cluster.createProject(through: follower, capacity: 2))
        let created = try await cluster.openSession(through: follower, user: "a")
        let connect = try #require(created["connect"] as? [String: Any])
        let port = try #require((connect["websocket"] as? String).flatMap { URL(string: $0)?.port })
        let client = try await WebSocketTestClient.connect(port: port)
        let token = try #require(created["clientToken"] as? String)
        let welcome = try #require(try await client.hello(token: token))
        let sessionId = try #require(welcome["sessionId"].string)

        let reader = try await SSEReader.open(
            port: cluster[follower].port, key: Self.key, query: "?projectId=p", timeoutSeconds: 2)
        #expect(reader.status == 200)
        var connectedSeen = false
        let deadline = ContinuousClock.now + .seconds(20)
        while !connectedSeen, ContinuousClock.now < deadline, !reader.ended {
            if let message = await reader.next(), message.event == "session.connected", message.data.contains(sessionId)
            {
                connectedSeen = true
            }
        }
        #expect(connectedSeen, "the follower's stream carries the owner's events")

        await cluster[o].kill9()
        var lostSeen = false
        while !lostSeen, ContinuousClock.now < deadline + .seconds(10), !reader.ended {
            if let message = await reader.next(), message.event == "session.disconnected",
                message.data.contains(sessionId), message.data.contains("nodeLost")
            {
                lostSeen = true
            }
        }
        #expect(!reader.ended, "the follower's stream did not end with the owner")
        #expect(lostSeen, "on the same stream: the session went to grace with cause nodeLost")
        reader.close()
        await client.abort()
    }

    /// The waiting queue across nodes: users queued through two followers share one order, and after a kill -9
    /// of the owner the node that took over has every ticket in that order and offers the freed concurrency to
    /// the head ticket.
    @Test func theQueueOutlivesTheOwnerAndOffersOnTheNodeThatTookOver() async throws {
        let cluster = try await Nodes(count: 3)
        defer { cluster.stop() }
        let owner = try #require(try await cluster.owner(from: 1))
        let o = cluster.index(of: owner)
        let (f1, f2) = ((o + 1) % 3, (o + 2) % 3)
        #expect(
            try await cluster[f1].call(
                "POST", "/v1/projects", #"{"id":"p","capacity":1,"queue":{"enabled":true}}"#, key: Self.key
            ).0 == 201)
        let holder = try await cluster.openSession(through: f1, user: "holder")
        for (node, user) in [(f1, "a"), (f2, "b"), (f1, "c")] {
            let (status, _) = try await cluster[node].call(
                "POST", "/v1/projects/p/concurrency/apply", #"{"userId":"\#(user)","queue":true}"#, key: Self.key)
            #expect(status == 202)
        }
        let (_, before) = try await cluster[f2].call("GET", "/v1/projects/p/queue", key: Self.key)
        let order = (Self.json(before)["tickets"] as? [[String: Any]] ?? []).compactMap { $0["userId"] as? String }
        #expect(order == ["a", "b", "c"])

        await cluster[o].kill9()
        _ = try #require(try await cluster.owner(from: f2, excluding: owner), "a survivor took over")
        // Right after a takeover a forwarded call may be answered 503 (two nodes that disagree for a moment
        // answer so rather than forward twice, ARCHITECTURE.md): ask until the answer is 200. A full run failed
        // here once when the first answer was taken as it came.
        var after: (Int, Any) = (0, [String: Any]())
        let answered = try await eventually(within: .seconds(15), every: .milliseconds(50)) {
            after = try await cluster[f2].call("GET", "/v1/projects/p/queue", key: Self.key)
            return after.0 == 200
        }
        let (status, body) = after
        #expect(answered, "GET queue after the takeover: \(status) \(body)")
        #expect((Self.json(body)["tickets"] as? [[String: Any]] ?? []).compactMap { $0["userId"] as? String } == order)
        let sessionId = try #require(holder["sessionId"] as? String)
        #expect(try await cluster[f2].call("DELETE", "/v1/sessions/\(sessionId)", key: Self.key).0 == 200)
        let (_, head) = try await cluster[f1].call("GET", "/v1/projects/p/queue/a", key: Self.key)
        #expect(Self.json(head)["state"] as? String == "offered")
        #expect(Self.json(head)["concurrencyId"] as? String == holder["concurrencyId"] as? String)
    }

    /// A client on the owner is told `replaced` when its user's new epoch is created through a follower, and
    /// `destroyed` when DestroySession goes through the other follower.
    @Test func destroyAndReplaceThroughFollowersReachTheClientOnTheOwner() async throws {
        let cluster = try await Nodes(count: 3)
        defer { cluster.stop() }
        let owner = cluster.index(of: try #require(try await cluster.owner(from: 1)))
        let followers = (0..<3).filter { $0 != owner }
        let viaFirst = TetherBackend(url: api(cluster, followers[0]), apiKey: Self.key)
        let viaSecond = TetherBackend(url: api(cluster, followers[1]), apiKey: Self.key)
        _ = try await viaFirst.createProject(id: "p", policy: .init(capacity: 2))

        let first = try await session(viaFirst, "a")
        let replacedClient = try TetherClient(session: first, configuration: Self.clientConfiguration)
        _ = try await replacedClient.connect()
        // A new epoch, through the other follower: apply again (the user's concurrency, reused), then create.
        #expect(try await viaSecond.apply(project: "p", userId: "a").reused)
        let again = try await viaSecond.createSession(project: "p", userId: "a")
        #expect(again.epoch == first.epoch + 1)
        #expect(await replacedClient.ended() == .replaced)

        let second = try await session(viaSecond, "b")
        let destroyedClient = try TetherClient(session: second, configuration: Self.clientConfiguration)
        _ = try await destroyedClient.connect()
        _ = try await viaFirst.destroySession(second.sessionId)
        #expect(await destroyedClient.ended() == .destroyed)
        #expect(try await viaSecond.session(second.sessionId).endReason == "destroyed")
    }
}
