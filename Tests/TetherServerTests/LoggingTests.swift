import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Synchronization
import Testing
import TetherServer
import TetherTestKit

/// Structured logs: request ids on API log lines, session ids on lifecycle lines, JSON lines, no secrets.
@Suite struct LoggingTests {
    /// One captured record.
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    /// A log handler that keeps every record in memory.
    struct Capture: LogHandler {
        let box: Box
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var all = metadata
            if let extra = event.metadata { all.merge(extra) { _, new in new } }
            let record = Record(
                level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" })
            box.records.withLock { $0.append(record) }
        }
    }

    final class Box: Sendable {
        let records = Mutex<[Record]>([])
    }

    @Test func apiLinesCarryTheRequestIdAndLifecycleLinesTheSessionIdWithoutSecrets() async throws {
        let box = Box()
        var configuration = TestServer().configuration()
        configuration.logLevel = .debug
        configuration.logHandler = { _ in Capture(box: box) }
        let app = try await TetherServer(configuration: configuration).makeApplication()
        try await app.test(.live) { client in
            let api = API(client: client)
            _ = try await api.post("/v1/projects", #"{"id":"logs","capacity":2}"#)
            let bad = try await api.post("/v1/projects", #"{"id":"logs","capacity":"many"}"#)
            #expect(bad.status == .badRequest)
            let requestId = try #require(bad.headers[HTTPField.Name("X-Request-Id")!])
            _ = try await api.post("/v1/projects/logs/concurrency/apply", #"{"userId":"alice"}"#)
            let created = try await api.post("/v1/projects/logs/sessions", #"{"userId":"alice"}"#)
            let token = try #require(created["clientToken"].string)
            let sessionId = try #require(created["sessionId"].string)
            _ = try await api.delete("/v1/sessions/\(sessionId)")
            _ = await eventually { box.records.withLock { $0.contains { $0.message == "session.ended" } } }
            Self.check(box.records.withLock { $0 }, requestId: requestId, sessionId: sessionId, token: token)
        }
    }

    static func check(_ records: [Record], requestId: String, sessionId: String, token: String) {
        #expect(
            records.contains { $0.metadata["requestId"] == requestId }, "a line of the failed request carries its id")
        let created = records.first { $0.message == "session.created" }
        #expect(created?.metadata["sessionId"] == sessionId)
        #expect(created?.metadata["projectId"] == "logs")
        #expect(created?.level == .info)
        let ended = records.first { $0.message == "session.ended" }
        #expect(ended?.metadata["reason"] == "destroyed")
        let everything = records.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        #expect(!everything.contains(TestServer.apiKey))
        #expect(!everything.contains(token))
    }

    @Test func jsonLinesHoldLevelMessageAndMetadataAsFields() async throws {
        let line = JSONLogHandler.line(
            level: .warning, label: "tether", message: "quote \" and\nnewline",
            metadata: ["sessionId": "s-1", "requestId": .string("r\"1"), "list": .array(["a", "b"])],
            date: Date(timeIntervalSince1970: 1_700_000_000.5))
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "tether")
        #expect(object["message"] as? String == "quote \" and\nnewline")
        #expect(object["sessionId"] as? String == "s-1")
        #expect(object["requestId"] as? String == "r\"1")
        #expect(object["list"] as? [String] == ["a", "b"])
        #expect((object["ts"] as? String)?.hasPrefix("2023-11-14T22:13:20.500Z") == true)
    }

    @Test func serveRefusesAnUnknownLogFormat() async throws {
        let (status, text) = try await ChildProcess.run(
            ServeProcess.binary, ["serve", "--log-format", "yaml", "--data", "/nonexistent/never-created.sqlite"],
            standardOutput: false)
        #expect(status != 0)
        #expect(text.contains("unknown log format 'yaml'"))
    }
}
