import Foundation
import Testing
import TetherTestKit

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `GET /v1/events` as Server-Sent Events against the real binary: every event once and in cursor order,
/// live, resumable with `Last-Event-ID` across a disconnect and a restart; keep-alives; retention.
@Suite struct EventStreamTests {
    static let key = "sse-test-key-0123456789"

    static func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tether-sse-\(UUID().uuidString).sqlite").path
    }

    /// Apply + CreateSession for a user; returns the session id. The projects here keep a reservation for
    /// 10 minutes: a fresh-clone CI run once took over 30 s (the default) between the apply and the create.
    @discardableResult
    static func session(_ server: ServeProcess, _ project: String, _ user: String) async throws -> String {
        let (applied, _) = try await server.call(
            "POST", "/v1/projects/\(project)/concurrency/apply", #"{"userId":"\#(user)"}"#, key: key)
        #expect(applied == 200)
        let (status, body) = try await server.call(
            "POST", "/v1/projects/\(project)/sessions", #"{"userId":"\#(user)"}"#, key: key)
        #expect(status == 201)
        return try #require((body as? [String: Any])?["sessionId"] as? String)
    }

    /// The cursors of the event list (the reference the stream must match).
    static func listedCursors(_ server: ServeProcess, after: UInt64 = 0, project: String? = nil) async throws
        -> [UInt64]
    {
        var cursors: [UInt64] = []
        var after = after
        while true {
            let query = "after=\(after)&limit=1000" + (project.map { "&projectId=\($0)" } ?? "")
            let (_, body) = try await server.call("GET", "/v1/events?\(query)", key: key)
            let events = (body as? [String: Any])?["events"] as? [[String: Any]] ?? []
            let page = events.compactMap { ($0["cursor"] as? NSNumber)?.uint64Value }
            cursors += page
            guard let last = page.last, page.count == 1000 else { return cursors }
            after = last
        }
    }

    @Test func streamsBacklogThenLiveEventsOnceInOrderAndResumesFromLastEventID() async throws {
        let path = Self.tempPath()
        let server = try await ServeProcess.start(dataPath: path, apiKey: Self.key)
        defer { server.stop() }
        _ = try await server.call(
            "POST", "/v1/projects", #"{"id":"sse","capacity":5,"reservationTtlMs":600000}"#, key: Self.key)
        _ = try await server.call(
            "POST", "/v1/projects", #"{"id":"other","capacity":5,"reservationTtlMs":600000}"#, key: Self.key)
        try await Self.session(server, "sse", "u1")
        try await Self.session(server, "other", "x1")
        let backlog = try await Self.listedCursors(server, project: "sse")
        #expect(backlog.count == 2)  // reserved + created

        let reader = try await SSEReader.open(port: server.port, key: Self.key, query: "?projectId=sse")
        #expect(reader.status == 200)
        #expect(reader.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        let first = await reader.take(backlog.count)
        #expect(first.map(\.id) == backlog.map { Optional($0) })

        // Live: new events of the project arrive; the other project's do not.
        let s2 = try await Self.session(server, "sse", "u2")
        try await Self.session(server, "other", "x2")
        _ = try await server.call("DELETE", "/v1/sessions/\(s2)", key: Self.key)
        let all = try await Self.listedCursors(server, project: "sse")
        let live = await reader.take(all.count - backlog.count)
        #expect(live.map(\.id) == all.dropFirst(backlog.count).map { Optional($0) })
        #expect(live.contains { $0.event == "session.ended" && $0.data.contains(#""reason":"destroyed""#) })
        for message in first + live {
            let object = try JSONSerialization.jsonObject(with: Data(message.data.utf8)) as? [String: Any]
            #expect(object?["projectId"] as? String == "sse")
            #expect((object?["cursor"] as? NSNumber)?.uint64Value == message.id)
            #expect(object?["type"] as? String == message.event)
        }

        // Disconnect part-way; a new reader from the last id it saw gets exactly the rest.
        reader.close()
        let seen = try #require(first.last?.id)
        let resumed = try await SSEReader.open(
            port: server.port, key: Self.key, query: "?projectId=sse", lastEventID: seen)
        let rest = await resumed.take(all.count - backlog.count)
        #expect(rest.map(\.id) == all.dropFirst(backlog.count).map { Optional($0) })
        resumed.close()
    }

    @Test func readerResumesAcrossARestartWithoutLossOrDuplicates() async throws {
        let path = Self.tempPath()
        var server = try await ServeProcess.start(dataPath: path, apiKey: Self.key)
        _ = try await server.call(
            "POST", "/v1/projects", #"{"id":"r","capacity":3,"reservationTtlMs":600000}"#, key: Self.key)
        try await Self.session(server, "r", "a")
        let before = try await Self.listedCursors(server)
        let reader = try await SSEReader.open(port: server.port, key: Self.key)
        let got = await reader.take(before.count)
        #expect(got.map(\.id) == before.map { Optional($0) })

        // SIGTERM ends the stream (and moves the session to grace: more events).
        #expect(await server.terminate() == 0)
        #expect(await reader.next() == nil)
        #expect(reader.ended)
        reader.close()

        server = try await ServeProcess.start(dataPath: path, apiKey: Self.key)
        defer { server.stop() }
        try await Self.session(server, "r", "b")
        let all = try await Self.listedCursors(server)
        let last = try #require(got.last?.id)
        let resumed = try await SSEReader.open(port: server.port, key: Self.key, lastEventID: last)
        let rest = await resumed.take(all.count - before.count)
        #expect(rest.map(\.id) == all.dropFirst(before.count).map { Optional($0) })
        #expect(Set(rest.compactMap(\.id)).isDisjoint(with: Set(got.compactMap(\.id))))
        resumed.close()
    }

    @Test func idleStreamSendsKeepAliveComments() async throws {
        let server = try await ServeProcess.start(
            dataPath: Self.tempPath(), apiKey: Self.key, extraArguments: ["--events-keepalive-ms", "100"])
        defer { server.stop() }
        _ = try await server.call(
            "POST", "/v1/projects", #"{"id":"k","capacity":1,"reservationTtlMs":600000}"#, key: Self.key)
        let reader = try await SSEReader.open(
            port: server.port, key: Self.key, query: "?projectId=nothing-here", timeoutSeconds: 3)
        // No event for this project: only comments.
        #expect(await reader.nextComments(2) == ["keepalive", "keepalive"])
        reader.close()
    }

    @Test func badCursorsAndMissingKeyAreRefused() async throws {
        let server = try await ServeProcess.start(dataPath: Self.tempPath(), apiKey: Self.key)
        defer { server.stop() }
        let noKey = try await SSEReader.open(port: server.port, key: "wrong")
        #expect(noKey.status == 401)
        let badID = try await SSEReader.open(port: server.port, key: Self.key, query: "", lastEventID: nil)
        #expect(badID.status == 200)
        badID.close()
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/v1/events")!)
        request.setValue("Bearer \(Self.key)", forHTTPHeaderField: "Authorization")
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        request.setValue("yesterday", forHTTPHeaderField: "Last-Event-ID")
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 400)
        #expect(String(decoding: data, as: UTF8.self).contains("Last-Event-ID"))
    }

    @Test func retentionPrunesOldEventsAndReadersFromPrunedCursorsAreTold() async throws {
        let path = Self.tempPath()
        var server = try await ServeProcess.start(dataPath: path, apiKey: Self.key)
        _ = try await server.call(
            "POST", "/v1/projects", #"{"id":"old","capacity":9,"reservationTtlMs":600000}"#, key: Self.key)
        for user in ["a", "b", "c", "d"] { try await Self.session(server, "old", user) }
        let before = try await Self.listedCursors(server)
        #expect(before.count >= 8)
        #expect(await server.terminate() == 0)

        // Restart keeping only 3 events: pruning runs at start.
        server = try await ServeProcess.start(dataPath: path, apiKey: Self.key, extraArguments: ["--events-keep", "3"])
        defer { server.stop() }
        var kept = try await Self.listedCursors(server)
        for _ in 0..<50 where kept.count > 3 {
            try await Task.sleep(for: .milliseconds(100))
            kept = try await Self.listedCursors(server)
        }
        #expect(kept == Array(before.suffix(3)))

        let (gone, body) = try await server.call("GET", "/v1/events?after=1", key: Self.key)
        #expect(gone == 410)
        #expect(
            ((body as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "FailedOperation.EventsPruned"
        )
        let stream = try await SSEReader.open(port: server.port, key: Self.key, lastEventID: 1)
        #expect(stream.status == 410)
        stream.close()

        // The cursor continues past the pruned ones.
        try await Self.session(server, "old", "e")
        let after = try await Self.listedCursors(server)
        #expect(after.first == kept.first)
        #expect(after.last! > kept.last!)
    }
}
