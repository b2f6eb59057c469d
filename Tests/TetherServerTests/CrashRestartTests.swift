import Foundation
import Testing
import TetherProtocol
import TetherTestKit

/// The real binary, killed with SIGKILL and restarted on the same file, and stopped with SIGTERM.
@Suite(.serialized) struct CrashRestartTests {
    static let key = "crash-test-key-42"

    static func canonical(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    func tempFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tether-crash-\(UUID().uuidString).sqlite").path
    }

    /// A store for the server: a fresh SQLite file, or a fresh database on the tests' PostgreSQL server.
    func freshStore(_ kind: String) async throws -> String {
        kind == "postgres" ? try await TestPostgres.createDatabase() : tempFile()
    }

    @Test(arguments: ["sqlite", "postgres"])
    func aKilledServerComesBackWithEverythingItAcknowledged(store kind: String) async throws {
        let data = try await freshStore(kind)
        // On PostgreSQL the server is a node of a cluster of one: the restarted process takes its node id back at
        // once, and the lease once the killed one's has run out (a short node timeout here).
        let node = kind == "postgres" ? ["--node-id", "crash", "--node-timeout-ms", "1000"] : []
        let first = try await ServeProcess.start(
            dataPath: data, apiKey: Self.key, tcpPort: ServeProcess.freePort(), extraArguments: node)
        defer { first.process.signal(SIGKILL) }
        let k = Self.key
        #expect(
            try await first.call("POST", "/v1/projects", #"{"id":"p","capacity":6,"reconnectGraceMs":60000}"#, key: k).0
                == 201)
        #expect(try await first.call("POST", "/v1/projects", #"{"id":"q","capacity":2}"#, key: k).0 == 201)
        #expect(try await first.call("PATCH", "/v1/projects/q", #"{"capacity":1}"#, key: k).0 == 200)
        // A reservation, a created session, an ended session, in p; a created one in q.
        #expect(
            try await first.call("POST", "/v1/projects/p/concurrency/apply", #"{"userId":"reserved"}"#, key: k).0 == 200
        )
        for user in ["created", "ended"] {
            #expect(
                try await first.call("POST", "/v1/projects/p/concurrency/apply", #"{"userId":"\#(user)"}"#, key: k).0
                    == 200)
            #expect(try await first.call("POST", "/v1/projects/p/sessions", #"{"userId":"\#(user)"}"#, key: k).0 == 201)
        }
        #expect(try await first.call("DELETE", "/v1/projects/p/users/ended/session", key: k).0 == 200)
        #expect(try await first.call("POST", "/v1/projects/q/concurrency/apply", #"{"userId":"x"}"#, key: k).0 == 200)
        #expect(try await first.call("POST", "/v1/projects/q/sessions", #"{"userId":"x"}"#, key: k).0 == 201)
        // Connected, suspended and grace sessions, over TCP.
        var clients: [String: BlockingFrameSocket] = [:]
        var ids: [String: String] = [:]
        for user in ["connected", "suspended", "grace"] {
            #expect(
                try await first.call("POST", "/v1/projects/p/concurrency/apply", #"{"userId":"\#(user)"}"#, key: k).0
                    == 200)
            let (_, body) = try await first.call("POST", "/v1/projects/p/sessions", #"{"userId":"\#(user)"}"#, key: k)
            let created = try #require(body as? [String: Any])
            let client = try BlockingFrameSocket(port: first.tcpPort)
            let token = try #require(created["clientToken"] as? String)
            let welcome = try #require(client.hello(.token(token)))
            clients[user] = client
            ids[user] = welcome.sessionId
        }
        clients["suspended"]?.send(.suspend(expectedMs: 100_000, reason: "background"))
        // Closed as a client closes (a reset, from a server ping left unread on a loaded machine, is cause `error`).
        if let grace = clients["grace"] { try await offPool { grace.closeAfterDraining() } }
        for (user, state) in [("connected", "connected"), ("suspended", "suspended"), ("grace", "grace")] {
            var seen = ""
            for _ in 0..<100 {
                let (_, s) = try await first.call("GET", "/v1/sessions/\(ids[user]!)", key: k)
                seen = (s as? [String: Any])?["state"] as? String ?? ""
                if seen == state { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(seen == state, "\(user)")
        }
        let (_, graceBody) = try await first.call("GET", "/v1/sessions/\(ids["grace"]!)", key: k)
        let graceDeadline = (graceBody as? [String: Any])?["deadlineAt"] as? Int

        let paths = [
            "/v1/projects", "/v1/projects/p/concurrency", "/v1/projects/q/concurrency", "/v1/projects/p/sessions",
            "/v1/projects/q/sessions", "/v1/projects/p/sessions?state=ended", "/v1/events?limit=1000",
            "/v1/audit?limit=1000",
        ]
        var before: [String: String] = [:]
        for path in paths { before[path] = try await first.json(path, key: k) }
        // The audit trail holds the acknowledged changes: two projects created, one changed.
        #expect(
            before["/v1/audit?limit=1000"]?.components(separatedBy: #""action":"project."#).count == 4,
            "\(before["/v1/audit?limit=1000"] ?? "")")
        await first.kill9()
        let killedAt = Int(Date().timeIntervalSince1970 * 1000)

        let second = try await ServeProcess.start(dataPath: data, apiKey: Self.key, extraArguments: node)
        defer { second.stop() }
        let serving = await eventually(within: .seconds(15)) {
            (try? await second.call("GET", "/v1/projects", key: k).0) == 200
        }
        #expect(serving)
        // Connections died with the process: connected and suspended sessions wait in grace (cause shutdown; on
        // PostgreSQL nodeLost, as for any node lost) for a full window from the restart; the grace session keeps
        // its deadline.
        let cause = kind == "postgres" ? "nodeLost" : "shutdown"
        for user in ["connected", "suspended"] {
            let (_, s) = try await second.call("GET", "/v1/sessions/\(ids[user]!)", key: k)
            let session = try #require(s as? [String: Any])
            #expect(session["state"] as? String == "grace" && session["lastCause"] as? String == cause, "\(user)")
            #expect((session["deadlineAt"] as? Int ?? 0) >= killedAt + 60_000, "\(user)")
        }
        let (_, graceAfter) = try await second.call("GET", "/v1/sessions/\(ids["grace"]!)", key: k)
        #expect((graceAfter as? [String: Any])?["deadlineAt"] as? Int == graceDeadline)
        #expect((graceAfter as? [String: Any])?["lastCause"] as? String == "closed")
        let count = try await second.json("/v1/projects/p/concurrency", key: k)
        #expect(count.contains(#""grace":3"#) && count.contains(#""created":1"#) && count.contains(#""reserved":1"#))
        for path in paths where !path.hasPrefix("/v1/projects/p/") && !path.hasPrefix("/v1/events") {
            let after = try await second.json(path, key: k)
            #expect(after == before[path], "\(path) differs after the restart")
        }
        // The event log kept everything, then the restart's own transitions follow.
        let (_, beforeEvents) = try await second.call("GET", "/v1/events?limit=1000&after=0", key: k)
        let eventsAfter = ((beforeEvents as? [String: Any])?["events"] as? [Any]) ?? []
        let eventsBefore =
            ((try JSONSerialization.jsonObject(with: Data(before["/v1/events?limit=1000"]!.utf8)) as? [String: Any])?[
                "events"] as? [Any]) ?? []
        #expect(eventsAfter.count == eventsBefore.count + 2)  // two session.disconnected (the cause above)
        #expect(eventsAfter.prefix(eventsBefore.count).map(Self.canonical) == eventsBefore.map(Self.canonical))
        // The event cursor continues where it was.
        let (_, events) = try await second.call("GET", "/v1/events?limit=1000", key: k)
        let lastBefore = ((events as? [String: Any])?["nextCursor"] as? Int) ?? 0
        #expect(
            try await second.call("POST", "/v1/projects/p/concurrency/apply", #"{"userId":"new"}"#, key: k).0 == 200)
        let (_, tail) = try await second.call("GET", "/v1/events?after=\(lastBefore)", key: k)
        let cursors =
            ((tail as? [String: Any])?["events"] as? [[String: Any]])?.compactMap { $0["cursor"] as? Int } ?? []
        #expect(cursors == [lastBefore + 1])
        #expect(await second.terminate() == 0)
        await TestPostgres.dropDatabase(data)
    }

    /// Runs `tether serve` with `arguments` (free ports) until it exits: its status and its standard error.
    static func serveUntilExit(_ arguments: [String]) async throws -> (Int32, String) {
        try await ChildProcess.run(
            ServeProcess.binary, ["serve", "--port", "0", "--client-port", "0", "--tcp-port", "0"] + arguments,
            standardOutput: false)
    }

    /// A PostgreSQL store that cannot be reached at start: one line that says so, and a non-zero exit status.
    @Test func anUnreachableDatabaseStopsTheStartWithOneClearLine() async throws {
        let refusing = RefusingPort()
        let (status, text) = try await Self.serveUntilExit([
            "--store", "postgres://tether:secret@127.0.0.1:\(refusing.port)/tether?sslmode=disable",
        ])
        #expect(status != 0)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1, "\(text)")
        #expect(text.contains("cannot reach the database") && text.contains("127.0.0.1:\(refusing.port)"))
        #expect(!text.contains("secret"))
    }

    /// `--store` and `--data` together, or a `--store` that names no store, are refused before anything starts.
    @Test(arguments: [
        ["--store", "mysql://u@h/d"], ["--store", "sqlite:"], ["--store", "postgres://u@h/d?sslmode=sometimes"],
        ["--store", "sqlite:/tmp/a.sqlite", "--data", "/tmp/b.sqlite"],
    ])
    func aBadStoreIsRefused(arguments: [String]) async throws {
        let (status, text) = try await Self.serveUntilExit(arguments)
        #expect(status != 0)
        #expect(text.contains("--store") || text.contains("--data"), "\(text)")
    }

    @Test func aGeneratedKeyIsPrintedOnceAndStoredOnlyAsAHash() async throws {
        let data = tempFile()
        let first = try await ServeProcess.start(dataPath: data, apiKey: nil)
        let line = try #require(first.lines.first { $0.contains("generated API key") })
        let key = String(try #require(line.split(separator: " ").last))
        #expect(try await first.call("GET", "/v1/projects", key: key).0 == 200)
        #expect(try await first.call("GET", "/v1/projects", key: "nope").0 == 401)
        #expect(await first.terminate() == 0)
        // The file holds the hash, not the key.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: data))
        #expect(bytes.range(of: Data(key.utf8)) == nil)
        let second = try await ServeProcess.start(dataPath: data, apiKey: nil)
        #expect(!second.lines.contains { $0.contains("generated API key") })
        #expect(try await second.call("GET", "/v1/projects", key: key).0 == 200)
        #expect(await second.terminate() == 0)
    }
}
