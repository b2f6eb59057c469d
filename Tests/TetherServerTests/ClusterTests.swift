import Foundation
import HTTPTypes
import Testing
import TetherProtocol
import TetherTestKit

/// Several `tether serve` processes on one PostgreSQL database, end to end: any node answers any call with the
/// same answer, applies raced through three nodes never hold a concurrency twice, a killed owner's sessions go
/// to grace with cause `nodeLost` and resume on the node that took over, a frozen owner fences itself, and a
/// second live node with the same id is refused.
@Suite(.serialized) struct ClusterTests {
    static let key = "cluster-key-0123456789"
    /// Short, so that the tests of a node's loss take seconds; the bounds below are generous multiples of it.
    static let nodeTimeoutMs = 1_000

    /// Nodes n0…n(count-1) on a fresh database, started one after the other (n0 takes the lease first).
    struct Nodes {
        let url: String
        var nodes: [ServeProcess] = []

        init(count: Int) async throws {
            url = try await TestPostgres.createDatabase()
            for i in 0..<count { nodes.append(try await Self.start(url, id: "n\(i)")) }
        }

        static func start(_ url: String, id: String) async throws -> ServeProcess {
            try await ServeProcess.start(
                dataPath: url, apiKey: ClusterTests.key, tcpPort: ServeProcess.freePort(),
                apiPort: ServeProcess.freePort(), clientPort: ServeProcess.freePort(),
                extraArguments: ["--node-id", id, "--node-timeout-ms", "\(ClusterTests.nodeTimeoutMs)"])
        }

        subscript(_ i: Int) -> ServeProcess { nodes[i] }

        /// `GET /v1/nodes` as seen from node `i`.
        func nodeList(from i: Int) async throws -> [[String: Any]] {
            let (_, body) = try await nodes[i].call("GET", "/v1/nodes", key: ClusterTests.key)
            return ((body as? [String: Any])?["nodes"] as? [[String: Any]]) ?? []
        }

        /// The id of the node that owns the lease and is alive, as node `i` sees it, once one does.
        func owner(from i: Int, excluding dead: String? = nil, within seconds: Double = 15) async throws -> String? {
            var found: String?
            _ = try await eventually(within: .seconds(seconds), every: .milliseconds(50)) {
                let list = try await nodeList(from: i)
                found =
                    list.first { ($0["owner"] as? Bool) == true && ($0["state"] as? String) == "alive" }?[
                        "nodeId"] as? String
                return found != nil && found != dead
            }
            return found == dead ? nil : found
        }

        func index(of nodeId: String) -> Int { Int(nodeId.dropFirst()) ?? -1 }

        /// Creates project `p` (60 s of grace) through node `i`; whether it was created.
        func createProject(through i: Int, capacity: Int) async throws -> Bool {
            try await nodes[i].call(
                "POST", "/v1/projects", #"{"id":"p","capacity":\#(capacity),"reconnectGraceMs":60000}"#,
                key: ClusterTests.key
            ).0 == 201
        }

        /// Apply, then CreateSession, for `user` of project `p` through node `i`: the created session's JSON.
        func openSession(through i: Int, user: String) async throws -> [String: Any] {
            _ = try await nodes[i].call(
                "POST", "/v1/projects/p/concurrency/apply", #"{"userId":"\#(user)"}"#, key: ClusterTests.key)
            let (status, body) = try await nodes[i].call(
                "POST", "/v1/projects/p/sessions", #"{"userId":"\#(user)"}"#, key: ClusterTests.key)
            #expect(status == 201)
            return ClusterTests.json(body)
        }

        /// Sends every node SIGTERM (SIGCONT first, for a frozen one) without waiting for their exits (see
        /// `ChildProcess.signal`), then drops the database in the background.
        func stop() {
            for node in nodes { node.stop() }
            let url = url
            Task { await TestPostgres.dropDatabase(url) }
        }
    }

    static func json(_ body: Any) -> [String: Any] { body as? [String: Any] ?? [:] }

    @Test func everyNodeAnswersEveryCallWithTheSameAnswer() async throws {
        let cluster = try await Nodes(count: 3)
        defer { cluster.stop() }
        let owner = try #require(try await cluster.owner(from: 2))
        #expect(owner == "n0")
        let list = try await cluster.nodeList(from: 1)
        #expect(list.map { $0["nodeId"] as? String } == ["n0", "n1", "n2"])
        #expect(list.allSatisfy { ($0["state"] as? String) == "alive" })
        #expect(list.filter { ($0["owner"] as? Bool) == true }.count == 1)
        // A change acknowledged through one node is seen by the next call to any node.
        let (created, _) = try await cluster[1].call(
            "POST", "/v1/projects", #"{"id":"p","capacity":3}"#, key: Self.key)
        #expect(created == 201)
        for i in 0..<3 {
            let (status, body) = try await cluster[i].call("GET", "/v1/projects/p/concurrency", key: Self.key)
            #expect(status == 200 && Self.json(body)["total"] as? Int == 3, "node \(i)")
        }
        // Errors come through with their codes, and the API key is checked on every node.
        let (missing, body) = try await cluster[2].call("GET", "/v1/projects/none", key: Self.key)
        #expect(missing == 404)
        #expect((Self.json(body)["error"] as? [String: Any])?["code"] as? String == "ResourceNotFound.Project")
        for i in 0..<3 {
            #expect(try await cluster[i].call("GET", "/v1/projects", key: "wrong-key-0123456789").0 == 401)
            #expect(try await cluster[i].call("GET", "/v1/nodes", key: "wrong-key-0123456789").0 == 401)
        }
    }

    /// A client that says hello to a follower (WebSocket, TCP, HTTP) is told `moved` with the owner's
    /// `connect` (close 4009 on WebSocket) and follows it to a welcome.
    @Test func aClientOnAFollowerIsToldWhereToGo() async throws {
        let cluster = try await Nodes(count: 2)
        defer { cluster.stop() }
        let owner = try #require(try await cluster.owner(from: 1))
        let follower = 1 - cluster.index(of: owner)
        let list = try await cluster.nodeList(from: follower)
        let ownerConnect = try #require(list.first { $0["nodeId"] as? String == owner }?["connect"] as? [String: Any])
        let mine = try #require(list.first { $0["nodeId"] as? String == "n\(follower)" }?["connect"] as? [String: Any])
        let followerPort = try #require((mine["websocket"] as? String).flatMap { URL(string: $0)?.port })
        let followerTCP = try #require((mine["tcp"] as? String).flatMap { URL(string: $0)?.port })
        #expect(
            try await cluster[follower].call("POST", "/v1/projects", #"{"id":"p","capacity":2}"#, key: Self.key).0
                == 201)
        _ = try await cluster[follower].call(
            "POST", "/v1/projects/p/concurrency/apply", #"{"userId":"a"}"#, key: Self.key)
        let (_, body) = try await cluster[follower].call(
            "POST", "/v1/projects/p/sessions", #"{"userId":"a"}"#, key: Self.key)
        let token = try #require(Self.json(body)["clientToken"] as? String)

        let ws = try await WebSocketTestClient.connect(port: followerPort)
        try await ws.send(.hello(.token(token)))
        let kick = try #require(await ws.inbox.wait(for: "kick"))
        #expect(kick.json["reason"].string == "moved")
        #expect(kick.json["connect"]["websocket"].string == ownerConnect["websocket"] as? String)
        #expect(await ws.inbox.waitClosed())
        #expect(ws.inbox.closeCode == 4009)
        // Following it: a welcome on the owner, and the session is untouched by the detour.
        let port = try #require(kick.json["connect"]["websocket"].string.flatMap { URL(string: $0)?.port })
        let there = try await WebSocketTestClient.connect(port: port)
        #expect(try await there.hello(token: token)?["concurrencyId"].string == "cc-p-1")
        await there.abort()

        let tcp = try await TCPTestClient.connect(port: followerTCP)
        try await tcp.send(.hello(.token(token)))
        let tcpKick = try #require(await tcp.inbox.wait(for: "kick"))
        #expect(
            tcpKick.json["reason"].string == "moved"
                && tcpKick.json["connect"]["tcp"].string == ownerConnect["tcp"] as? String)
        #expect(await tcp.inbox.waitClosed())

        let http = try await HeartbeatHTTP.ping(port: followerPort, token: token, seq: 1)
        #expect(http.status == 421)
        #expect(http["error"]["code"].string == "FailedOperation.Moved")
        #expect(http["connect"]["http"].string == ownerConnect["http"] as? String)
    }

    @Test func appliesRacedThroughThreeNodesNeverHoldAConcurrencyTwice() async throws {
        let cluster = try await Nodes(count: 3)
        defer { cluster.stop() }
        _ = try #require(try await cluster.owner(from: 0))
        #expect(
            try await cluster[0].call("POST", "/v1/projects", #"{"id":"race","capacity":5}"#, key: Self.key).0 == 201)
        let nodes = cluster.nodes
        let results = try await withThrowingTaskGroup(of: (String, Int, String?).self) { group in
            for u in 0..<24 {
                group.addTask {
                    let (status, body) = try await nodes[u % 3].call(
                        "POST", "/v1/projects/race/concurrency/apply", #"{"userId":"u\#(u)"}"#, key: Self.key)
                    return ("u\(u)", status, Self.json(body)["concurrencyId"] as? String)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let granted = results.filter { $0.1 == 200 }
        #expect(granted.count == 5)
        #expect(results.filter { $0.1 == 429 }.count == 19)
        #expect(Set(granted.compactMap(\.2)).count == 5, "five different concurrencies")
        // Creates raced through other nodes than the applies.
        let creates = try await withThrowingTaskGroup(of: Int.self) { group in
            for (i, (user, _, _)) in granted.enumerated() {
                group.addTask {
                    try await nodes[(i + 1) % 3].call(
                        "POST", "/v1/projects/race/sessions", #"{"userId":"\#(user)"}"#, key: Self.key
                    ).0
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(creates == [201, 201, 201, 201, 201])
        var counts: [String] = []
        for i in 0..<3 { counts.append(try await cluster[i].json("/v1/projects/race/concurrency", key: Self.key)) }
        #expect(Set(counts).count == 1, "\(counts)")
        #expect(counts[0].contains(#""idle":0"#) && counts[0].contains(#""created":5"#))
    }

    /// kill -9 of the owner while clients are connected to it: another node takes the lease within the node
    /// timeout (+ 1 s, bounded generously here), the sessions go to grace with cause `nodeLost`, and each client
    /// resumes on the new owner with its resume token: same session, same concurrency, epoch + 1.
    @Test func aKilledOwnersSessionsResumeOnTheNodeThatTookOver() async throws {
        let cluster = try await Nodes(count: 3)
        defer { cluster.stop() }
        let owner = try #require(try await cluster.owner(from: 1))
        let o = cluster.index(of: owner)
        let follower = (o + 1) % 3
        #expect(try await cluster.createProject(through: follower, capacity: 4))
        var held: [(session: String, concurrency: String, epoch: Int, resume: String)] = []
        var clients: [WebSocketTestClient] = []
        let clientPort = try #require(
            try await cluster.nodeList(from: follower).first { $0["nodeId"] as? String == owner }.flatMap {
                (($0["connect"] as? [String: Any])?["websocket"] as? String).flatMap { URL(string: $0)?.port }
            })
        for user in ["a", "b", "c"] {
            let created = try await cluster.openSession(through: follower, user: user)
            let connect = try #require(created["connect"] as? [String: Any])
            #expect((connect["websocket"] as? String).flatMap { URL(string: $0)?.port } == clientPort)
            let client = try await WebSocketTestClient.connect(port: clientPort)
            let token = try #require(created["clientToken"] as? String)
            let welcome = try #require(try await client.hello(token: token))
            held.append(
                (
                    welcome["sessionId"].string ?? "", welcome["concurrencyId"].string ?? "", welcome["epoch"].int ?? 0,
                    welcome["resumeToken"].string ?? ""
                ))
            clients.append(client)
        }
        await cluster[o].kill9()
        let survivor = (o + 2) % 3
        let next = try #require(try await cluster.owner(from: survivor, excluding: owner), "a survivor took over")
        #expect(next != owner)
        let deadSeen = try await eventually(within: .seconds(10)) {
            try await cluster.nodeList(from: survivor).first { $0["nodeId"] as? String == owner }?["state"]
                as? String == "dead"
        }
        #expect(deadSeen)
        for h in held {
            let (_, body) = try await cluster[survivor].call("GET", "/v1/sessions/\(h.session)", key: Self.key)
            let session = Self.json(body)
            #expect(session["state"] as? String == "grace")
            #expect(session["lastCause"] as? String == "nodeLost")
        }
        let newPort = try #require(
            try await cluster.nodeList(from: survivor).first { $0["nodeId"] as? String == next }.flatMap {
                (($0["connect"] as? [String: Any])?["websocket"] as? String).flatMap { URL(string: $0)?.port }
            })
        for h in held {
            let client = try await WebSocketTestClient.connect(port: newPort)
            let welcome = try #require(try await client.resume(h.resume), "resumed on \(next)")
            #expect(welcome["sessionId"].string == h.session)
            #expect(welcome["concurrencyId"].string == h.concurrency)
            #expect(welcome["epoch"].int == h.epoch + 1)
            await client.abort()
        }
        let (_, events) = try await cluster[survivor].call("GET", "/v1/events?projectId=p&limit=1000", key: Self.key)
        let causes = (Self.json(events)["events"] as? [[String: Any]] ?? []).compactMap {
            ($0["data"] as? [String: Any])?["cause"] as? String
        }
        #expect(causes.filter { $0 == "nodeLost" }.count == 3)
        for client in clients { await client.abort() }
    }

    /// SIGSTOP of the owner past the node timeout: another node takes over; on SIGCONT the old owner finds its
    /// lease gone, kicks its clients with `shutdown` and serves on as a follower (its calls forwarded).
    @Test func aFrozenOwnerFencesItselfWhenItWakes() async throws {
        let cluster = try await Nodes(count: 2)
        defer { cluster.stop() }
        let owner = try #require(try await cluster.owner(from: 1))
        let o = cluster.index(of: owner)
        let other = 1 - o
        #expect(
            try await cluster[other].call(
                "POST", "/v1/projects", #"{"id":"p","capacity":1,"reconnectGraceMs":60000}"#, key: Self.key
            ).0 == 201)
        _ = try await cluster[other].call("POST", "/v1/projects/p/concurrency/apply", #"{"userId":"a"}"#, key: Self.key)
        let (_, body) = try await cluster[other].call(
            "POST", "/v1/projects/p/sessions", #"{"userId":"a"}"#, key: Self.key)
        let created = Self.json(body)
        let port = try #require(
            ((created["connect"] as? [String: Any])?["websocket"] as? String).flatMap { URL(string: $0)?.port })
        let client = try await WebSocketTestClient.connect(port: port)
        let token = try #require(created["clientToken"] as? String)
        _ = try #require(try await client.hello(token: token))

        kill(cluster[o].process.processIdentifier, SIGSTOP)
        let next = try await cluster.owner(from: other, excluding: owner)
        #expect(next == "n\(other)")
        let (_, s) = try await cluster[other].call(
            "GET", "/v1/sessions/\(created["sessionId"] as? String ?? "")", key: Self.key)
        #expect(Self.json(s)["lastCause"] as? String == "nodeLost")
        kill(cluster[o].process.processIdentifier, SIGCONT)
        // The woken node's client is told to go: kick `shutdown`, and the connection closes.
        let kicked = await client.inbox.wait(for: "kick", within: .seconds(10))
        #expect(kicked?.json["reason"].string == "shutdown")
        #expect(await client.inbox.waitClosed(within: .seconds(10)))
        // It serves on as a follower (once it has bound its port again): its answers are the new owner's.
        let sees = await eventually(within: .seconds(10)) {
            (try? await cluster.nodeList(from: o))?.first { ($0["owner"] as? Bool) == true }?["nodeId"] as? String
                == next
        }
        #expect(sees)
        let (count, countBody) = try await cluster[o].call("GET", "/v1/projects/p/concurrency", key: Self.key)
        #expect(count == 200 && Self.json(countBody)["grace"] as? Int == 1)
    }

    @Test func aSecondLiveNodeWithTheSameIdIsRefused() async throws {
        let cluster = try await Nodes(count: 1)
        defer { cluster.stop() }
        let (status, errors) = try await CrashRestartTests.serveUntilExit([
            "--host", "127.0.0.1", "--store", cluster.url, "--node-id", "n0", "--api-key", Self.key,
        ])
        #expect(status != 0)
        #expect(errors.contains("node id n0 is in use"), "\(errors)")
        #expect(errors.split(separator: "\n").count == 1, "one line: \(errors)")
    }
}

/// A server on the embedded store is a cluster of one: `GET /v1/nodes` lists it, alive and the owner.
@Suite struct SingleNodeTests {
    @Test func aLoneServerListsItselfAsTheOwner() async throws {
        try await TestServer().run { api in
            let answer = try await api.call(.get, "/v1/nodes")
            #expect(answer.status == .ok)
            let nodes = answer.json["nodes"].array
            #expect(nodes.count == 1)
            #expect(nodes.first?["state"].string == "alive")
            #expect(nodes.first?["owner"].bool == true)
            #expect(nodes.first?["connect"]["websocket"].string?.hasSuffix("/v1/connect") == true)
            #expect(try await api.call(.get, "/v1/nodes", key: "wrong").status == .unauthorized)
            #expect(try await api.call(.get, "/readyz", key: nil).json["status"].string == "ready")
        }
    }
}
