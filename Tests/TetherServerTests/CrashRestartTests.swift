import Foundation
import Testing

/// The real binary, killed with SIGKILL and restarted on the same file, and stopped with SIGTERM.
@Suite(.serialized) struct CrashRestartTests {
    static let key = "crash-test-key-42"

    func tempFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tether-crash-\(UUID().uuidString).sqlite").path
    }

    @Test func aKilledServerComesBackWithEverythingItAcknowledged() async throws {
        let data = tempFile()
        let first = try ServeProcess(dataPath: data, apiKey: Self.key)
        let k = Self.key
        #expect(
            try await first.call("POST", "/v1/projects", #"{"id":"p","capacity":4,"reconnectGraceMs":60000}"#, key: k).0
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

        let paths = [
            "/v1/projects", "/v1/projects/p/concurrency", "/v1/projects/q/concurrency", "/v1/projects/p/sessions",
            "/v1/projects/q/sessions", "/v1/projects/p/sessions?state=ended", "/v1/events?limit=1000",
        ]
        var before: [String: String] = [:]
        for path in paths { before[path] = try await first.json(path, key: k) }
        first.kill9()

        let second = try ServeProcess(dataPath: data, apiKey: Self.key)
        for path in paths {
            let after = try await second.json(path, key: k)
            #expect(after == before[path], "\(path) differs after the restart")
        }
        // The event cursor continues where it was.
        let (_, events) = try await second.call("GET", "/v1/events?limit=1000", key: k)
        let lastBefore = ((events as? [String: Any])?["nextCursor"] as? Int) ?? 0
        #expect(
            try await second.call("POST", "/v1/projects/p/concurrency/apply", #"{"userId":"new"}"#, key: k).0 == 200)
        let (_, tail) = try await second.call("GET", "/v1/events?after=\(lastBefore)", key: k)
        let cursors =
            ((tail as? [String: Any])?["events"] as? [[String: Any]])?.compactMap { $0["cursor"] as? Int } ?? []
        #expect(cursors == [lastBefore + 1])
        #expect(second.terminate() == 0)
    }

    @Test func aGeneratedKeyIsPrintedOnceAndStoredOnlyAsAHash() async throws {
        let data = tempFile()
        let first = try ServeProcess(dataPath: data, apiKey: nil)
        let line = try #require(first.lines.first { $0.contains("generated API key") })
        let key = String(try #require(line.split(separator: " ").last))
        #expect(try await first.call("GET", "/v1/projects", key: key).0 == 200)
        #expect(try await first.call("GET", "/v1/projects", key: "nope").0 == 401)
        #expect(first.terminate() == 0)
        // The file holds the hash, not the key.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: data))
        #expect(bytes.range(of: Data(key.utf8)) == nil)
        let second = try ServeProcess(dataPath: data, apiKey: nil)
        #expect(!second.lines.contains { $0.contains("generated API key") })
        #expect(try await second.call("GET", "/v1/projects", key: key).0 == 200)
        #expect(second.terminate() == 0)
    }
}
