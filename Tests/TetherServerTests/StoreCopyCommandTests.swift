import Foundation
import Testing
import TetherTestKit

/// The steps of a move, as the README gives them: stop the embedded server, `tether store copy`, start a node on
/// PostgreSQL: it answers as the embedded server did (projects, counts, the event log and its cursors, the key).
@Suite struct StoreCopyCommandTests {
    static let key = "copy-key-0123456789"

    static func tether(_ arguments: [String]) async throws -> (Int32, String) {
        try await ChildProcess.run(ServeProcess.binary, arguments)
    }

    @Test func anEmbeddedDeploymentMovesToPostgresAndServesTheSame() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tether-move-\(UUID()).sqlite").path
        let url = try await TestPostgres.createDatabase()
        defer { Task { await TestPostgres.dropDatabase(url) } }
        let k = Self.key
        let embedded = try await ServeProcess.start(dataPath: path, apiKey: k)
        #expect(try await embedded.call("POST", "/v1/projects", #"{"id":"m","capacity":3}"#, key: k).0 == 201)
        for user in ["a", "b"] {
            #expect(
                try await embedded.call("POST", "/v1/projects/m/concurrency/apply", #"{"userId":"\#(user)"}"#, key: k).0
                    == 200)
        }
        #expect(try await embedded.call("POST", "/v1/projects/m/sessions", #"{"userId":"a"}"#, key: k).0 == 201)
        let paths = [
            "/v1/projects", "/v1/projects/m/concurrency", "/v1/projects/m/sessions", "/v1/events?limit=1000",
            "/v1/audit?limit=1000",
        ]
        var before: [String: String] = [:]
        for p in paths { before[p] = try await embedded.json(p, key: k) }
        #expect(await embedded.terminate() == 0)

        let (status, output) = try await Self.tether(["store", "copy", "sqlite:\(path)", url])
        #expect(status == 0, "\(output)")
        #expect(output.contains("copied 1 projects, 1 sessions, 1 reservations"), "\(output)")
        #expect(output.contains("1 audit records"), "\(output)")
        // Copying again is refused: the database is in use now.
        let (again, refusal) = try await Self.tether(["store", "copy", "sqlite:\(path)", url])
        #expect(again != 0 && refusal.contains("not empty"), "\(refusal)")
        let (missing, missingOutput) = try await Self.tether([
            "store", "copy", "sqlite:/nonexistent/tether.sqlite", url,
        ])
        #expect(missing != 0 && missingOutput.contains("no such file"), "\(missingOutput)")

        // The node starts on the copy with the same key (no --api-key: the copied hash is the key's).
        let node = try await ServeProcess.start(
            dataPath: url, apiKey: nil, extraArguments: ["--node-id", "moved", "--node-timeout-ms", "1000"])
        defer { node.stop() }
        let serving = await eventually(within: .seconds(15)) {
            (try? await node.call("GET", "/v1/projects", key: k).0) == 200
        }
        #expect(serving)
        for p in paths where p != "/v1/events?limit=1000" {
            #expect(try await node.json(p, key: k) == before[p], "\(p)")
        }
        // The event log continues from its cursors (the node's own restart events follow).
        let (_, events) = try await node.call("GET", "/v1/events?limit=1000", key: k)
        let after = ((events as? [String: Any])?["events"] as? [[String: Any]]) ?? []
        let old =
            ((try JSONSerialization.jsonObject(with: Data(before["/v1/events?limit=1000"]!.utf8)) as? [String: Any])?[
                "events"] as? [[String: Any]]) ?? []
        #expect(after.count >= old.count && !old.isEmpty)
        #expect(
            after.prefix(old.count).compactMap { $0["cursor"] as? Int } == old.compactMap { $0["cursor"] as? Int })
        // The audit trail goes on after the copied records.
        #expect(try await node.call("PATCH", "/v1/projects/m", #"{"capacity":4}"#, key: k).0 == 200)
        let (_, audit) = try await node.call("GET", "/v1/audit?limit=1000", key: k)
        let records = ((audit as? [String: Any])?["records"] as? [[String: Any]]) ?? []
        #expect(records.compactMap { $0["id"] as? Int } == [1, 2], "\(records)")
        #expect(records.compactMap { $0["action"] as? String } == ["project.create", "project.update"])
        try? FileManager.default.removeItem(atPath: path)
    }
}
