import Foundation
import Testing
import TetherTestKit

/// The event stream of a project key (issue 16, item 1): only its projects' events, and it ends once the key is
/// revoked, before any later event is sent on it.
@Suite struct EventStreamKeyTests {
    @Test func aProjectKeysStreamHasItsProjectsEventsAndEndsWhenTheKeyIsRevoked() async throws {
        let key = EventStreamTests.key
        let server = try await ServeProcess.start(dataPath: EventStreamTests.tempPath(), apiKey: key)
        defer { server.stop() }
        for id in ["mine", "other"] {
            #expect(try await server.call("POST", "/v1/projects", #"{"id":"\#(id)","capacity":5}"#, key: key).0 == 201)
        }
        let (status, body) = try await server.call(
            "POST", "/v1/keys", #"{"name":"mine","projects":["mine"]}"#, key: key)
        #expect(status == 201)
        let created = body as? [String: Any] ?? [:]
        let projectKey = try #require(created["key"] as? String)
        let keyId = try #require(created["keyId"] as? String)
        try await EventStreamTests.session(server, "other", "x1")
        try await EventStreamTests.session(server, "mine", "u1")
        try await EventStreamTests.session(server, "other", "x2")
        let mine = try await EventStreamTests.listedCursors(server, project: "mine")
        #expect(mine.count == 2)

        let reader = try await SSEReader.open(port: server.port, key: projectKey)
        #expect(reader.status == 200)
        #expect(await reader.take(mine.count).map(\.id) == mine.map { Optional($0) })
        try await EventStreamTests.session(server, "other", "x3")
        try await EventStreamTests.session(server, "mine", "u2")
        let after = try await EventStreamTests.listedCursors(server, project: "mine")
        let live = await reader.take(after.count - mine.count)
        #expect(live.map(\.id) == after.dropFirst(mine.count).map { Optional($0) })

        #expect(try await server.call("DELETE", "/v1/keys/\(keyId)", key: key).0 == 200)
        try await EventStreamTests.session(server, "mine", "u3")
        #expect(await reader.next() == nil)
        #expect(reader.ended)
        reader.close()
    }
}
