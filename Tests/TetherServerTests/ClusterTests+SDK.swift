import Foundation
import Synchronization
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The SDK in a cluster (issue 14, items 3 and 6): a client pointed at a follower follows `moved` without a
/// loss; the welcome names the other live nodes; clients of a killed owner come back on the others by
/// themselves, on their own concurrency; a backend client given several URLs gets past a dead node.
extension ClusterTests {
    /// The clients' rules, with short delays so that a takeover shows in seconds.
    static var clientConfiguration: TetherClientConfiguration {
        var c = TetherClientConfiguration()
        c.backoff = Backoff(base: .milliseconds(50), cap: .milliseconds(500))
        c.connectTimeout = .seconds(2)
        c.helloTimeout = .seconds(3)
        return c
    }

    /// Node `i`'s backend API.
    func api(_ cluster: Nodes, _ i: Int) -> URL { URL(string: "http://127.0.0.1:\(cluster[i].port)")! }

    /// Node `i`'s `connect` block as `GET /v1/nodes` lists it.
    func connect(_ cluster: Nodes, of i: Int) async throws -> TetherBackend.CreatedSession.Connect {
        let row = try #require(try await cluster.nodeList(from: i).first { $0["nodeId"] as? String == "n\(i)" })
        let connect = try #require(row["connect"] as? [String: Any])
        return .init(
            websocket: connect["websocket"] as? String ?? "", tcp: connect["tcp"] as? String,
            http: connect["http"] as? String ?? "")
    }

    @Test func anSDKClientSentToAFollowerFollowsMovedWithoutALoss() async throws {
        let cluster = try await Nodes(count: 2)
        defer { cluster.stop() }
        let owner = cluster.index(of: try #require(try await cluster.owner(from: 1)))
        let follower = 1 - owner
        let backend = TetherBackend(url: api(cluster, follower), apiKey: Self.key)
        _ = try await backend.createProject(id: "p", policy: .init(capacity: 2))
        #expect(try await waitForAlternates(backend, nodes: 2))
        let followerConnect = try await connect(cluster, of: follower)
        let ownerConnect = try await connect(cluster, of: owner)
        for (user, transport) in [("w", TetherClient.Transport.websocket), ("t", .tcp)] {
            var created = try await session(backend, user)
            created.connect = followerConnect  // as if the backend had sent its client to the wrong node
            let client = try TetherClient(
                session: created, transport: transport, configuration: Self.clientConfiguration)
            let log = StateLog(client)
            let info = try await client.connect()
            #expect(info.concurrencyId == created.concurrencyId && info.epoch == created.epoch, "\(transport)")
            let url = transport == .websocket ? ownerConnect.websocket : try #require(ownerConnect.tcp)
            #expect(await client.endpoint == TetherEndpoint(url: url), "\(transport) ends up on the owner")
            // Followed at once: no reconnecting state, and the session never left `connected` for a loss. (The
            // log reads the client's state stream on its own task: wait until it has seen `connected`.)
            _ = await log.wait { if case .connected = $0 { true } else { false } }
            #expect(log.all == [.connecting, .connected(info)], "\(transport): \(log.all)")
            #expect(await client.endpoints.count == 2, "the welcome named the follower as the alternate")
            let session = try await backend.session(created.sessionId)
            #expect(session.state == "connected" && session.history.allSatisfy { $0.cause == nil })
            await client.close()
        }
    }

    /// Kill -9 of the owner while SDK clients (WebSocket and TCP) heartbeat on it: each comes back by itself
    /// on a live node (trying its welcome's `alternates`), same session and concurrency, epoch + 1; every
    /// session went to grace with `nodeLost`; the backend client, given the dead node's URL first, still works.
    @Test func sdkClientsOfAKilledOwnerResumeOnTheOthers() async throws {
        let cluster = try await Nodes(count: 3)
        defer { cluster.stop() }
        let owner = cluster.index(of: try #require(try await cluster.owner(from: 1)))
        let others = (0..<3).filter { $0 != owner }
        // The owner first: once it is dead every call must get past it.
        let backend = TetherBackend(urls: [owner, others[0], others[1]].map { api(cluster, $0) }, apiKey: Self.key)
        _ = try await backend.createProject(
            id: "p",
            policy: .init(capacity: 8, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 3_000, reconnectGraceMs: 60_000))
        #expect(try await waitForAlternates(backend, nodes: 3))
        var clients: [(client: TetherClient, info: SessionInfo, log: StateLog)] = []
        for i in 0..<6 {
            let created = try await session(backend, "u\(i)")
            let client = try TetherClient(
                session: created, transport: i % 2 == 0 ? .websocket : .tcp, configuration: Self.clientConfiguration)
            let log = StateLog(client)
            clients.append((client, try await client.connect(), log))
            #expect(await client.endpoints.count == 3, "the welcome names both other nodes")
        }
        // An SSE reader on a follower (the owner's stream forwarded), the other follower its alternate: the
        // owner's death breaks its stream and a node between owners may answer 503; it reads on.
        var feed = TetherEventStream(url: api(cluster, others[0]), apiKey: Self.key, project: "p")
        feed.alternates = [api(cluster, others[1])]
        feed.backoff = Backoff(base: .milliseconds(50), cap: .milliseconds(500))
        let seen = SeenEvents()
        let reader = Task {
            for try await message in feed.follow(after: 0) { seen.add(message.data) }
        }
        defer { reader.cancel() }
        await cluster[owner].kill9()
        let next = try #require(try await cluster.owner(from: others[0], excluding: "n\(owner)"))
        for (client, info, log) in clients {
            let back = await log.wait(within: .seconds(30)) {
                if case .connected(let again) = $0 { again.epoch > info.epoch } else { false }
            }
            guard case .connected(let again) = back else {
                Issue.record("\(info.sessionId) not back: \(log.all)")
                continue
            }
            #expect(again.sessionId == info.sessionId && again.concurrencyId == info.concurrencyId)
            #expect(again.epoch == info.epoch + 1)
            #expect(await client.endpoints.first.map { "\($0)" } != nil)
            #expect(!log.all.contains { if case .ended = $0 { true } else { false } })
        }
        let nextConnect = try await connect(cluster, of: cluster.index(of: next))
        for (client, _, _) in clients {
            let endpoint = await client.endpoint
            #expect(
                endpoint == TetherEndpoint(url: nextConnect.websocket)
                    || endpoint == nextConnect.tcp.flatMap { TetherEndpoint(url: $0) }, "on the new owner")
        }
        // The server's account, through the backend client whose first URL is the dead node.
        let events = try await backend.events(project: "p", limit: 1_000).events
        let lost = Set(events.filter { $0.data.cause == "nodeLost" }.compactMap(\.sessionId))
        #expect(lost == Set(clients.map(\.info.sessionId)))
        let streamed = await eventually(within: .seconds(30)) { seen.count(of: "nodeLost") == clients.count }
        #expect(streamed, "the SSE reader saw \(seen.count(of: "nodeLost")) nodeLost events")
        reader.cancel()
        if case .failure(let error) = await reader.result { Issue.record("the stream ended: \(error)") }
        let count = try await backend.count(project: "p")
        #expect(count.connected == 6 && count.total == 8)
        for (client, _, _) in clients { await client.close() }
    }

    /// Waits until the owner's welcomes name `count - 1` alternates: it reads the membership every node
    /// timeout / 5, so a node that joined a moment ago may not be in them yet. A probe session, closed each time.
    func waitForAlternates(_ backend: TetherBackend, nodes count: Int) async throws -> Bool {
        try await eventually(within: .seconds(15), every: .milliseconds(100)) {
            let client = try TetherClient(
                session: try await session(backend, "probe"), configuration: Self.clientConfiguration)
            _ = try await client.connect()
            let seen = await client.endpoints.count
            await client.close()
            return seen == count
        }
    }

    func session(_ backend: TetherBackend, _ user: String) async throws -> TetherBackend.CreatedSession {
        _ = try await backend.apply(project: "p", userId: user)
        return try await backend.createSession(project: "p", userId: user)
    }
}

/// The data of the events an SSE reader saw.
final class SeenEvents: Sendable {
    private let events = Mutex<[String]>([])
    func add(_ data: String) { events.withLock { $0.append(data) } }
    /// Everything added, in order.
    var all: [String] { events.withLock { $0 } }
    /// Events whose JSON mentions `text`.
    func count(of text: String) -> Int { events.withLock { $0.filter { $0.contains(text) }.count } }
}

extension ClusterTests {
    /// `GET /metrics` of node `i` (its own text, never forwarded).
    func metrics(_ cluster: Nodes, _ i: Int) async throws -> String {
        let (data, _) = try await URLSession.shared.data(
            from: URL(string: "http://127.0.0.1:\(cluster[i].port)/metrics")!)
        return String(decoding: data, as: UTF8.self)
    }

    /// Each node's `/metrics` is its own: whether it owns the cluster, the nodes it sees, the calls it
    /// forwarded; the pools are the owner's.
    @Test func eachNodeServesItsOwnMetrics() async throws {
        let cluster = try await Nodes(count: 2)
        defer { cluster.stop() }
        let owner = cluster.index(of: try #require(try await cluster.owner(from: 1)))
        let follower = 1 - owner
        #expect(
            try await cluster[follower].call("POST", "/v1/projects", #"{"id":"p","capacity":2}"#, key: Self.key).0
                == 201)
        let seen = await eventually(within: .seconds(10)) {
            let f = (try? await metrics(cluster, follower)) ?? ""
            let o = (try? await metrics(cluster, owner)) ?? ""
            return f.contains("\ntether_node_owner 0") && o.contains("\ntether_node_owner 1")
                && f.contains(#"tether_cluster_nodes{state="alive"} 2"#)
                && o.contains(#"tether_cluster_nodes{state="alive"} 2"#)
        }
        #expect(seen)
        let f = try await metrics(cluster, follower)
        let o = try await metrics(cluster, owner)
        #expect(f.contains("\ntether_node_forwarded_requests_total 1\n"), "the one call it forwarded: \(f)")
        #expect(f.contains("\ntether_node_store_reachable 1") && o.contains("\ntether_node_store_reachable 1"))
        #expect(o.contains(#"tether_slots{project="p",state="total"} 2"#))
        #expect(!f.contains(#"tether_slots{project="p""#))
    }
}
