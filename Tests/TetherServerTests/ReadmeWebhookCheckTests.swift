import Foundation
import Testing
import TetherTestKit

@testable import TetherServer

/// The README's receiver check (`tether_webhook_ok`, Python) run against the server's own signatures: a fresh
/// delivery passes with either secret of a change, a replay more than 5 minutes later and any changed byte fail.
@Suite struct ReadmeWebhookCheckTests {
    /// The README's ```python block that defines `tether_webhook_ok`.
    static func readmeCheck() throws -> String {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        for block in text.components(separatedBy: "```python\n").dropFirst() {
            let code = block.components(separatedBy: "```").first ?? ""
            if code.contains("def tether_webhook_ok(") { return code }
        }
        Issue.record("README.md has no ```python block defining tether_webhook_ok")
        return ""
    }

    struct Case: Codable {
        var name: String
        var headers: [String: String]
        var body: String
        var secret: String
        var now: Int64
        var expected: Bool
    }

    @Test func theReadmesCheckAcceptsFreshDeliveriesAndRefusesReplaysAndChanges() async throws {
        let body = #"{"cursor":42,"type":"session.created","projectId":"p"}"#
        let at: Int64 = 1_765_000_000
        func delivery(_ secrets: [String], id: String = "evt_42", body: String = body) -> [String: String] {
            [
                "webhook-id": id, "webhook-timestamp": String(at),
                "webhook-signature": StandardWebhookSignature.header(
                    id: id, timestamp: at, body: Array(body.utf8), secrets: secrets),
            ]
        }
        let plain = delivery(["s3cret"])
        let rotated = delivery(["whsec_bmV3LXNlY3JldA==", "s3cret"])
        var wrongId = plain
        wrongId["webhook-id"] = "evt_43"
        var laterStamp = plain
        laterStamp["webhook-timestamp"] = String(at + 1)
        let cases = [
            Case(name: "fresh", headers: plain, body: body, secret: "s3cret", now: at, expected: true),
            Case(name: "4 minutes old", headers: plain, body: body, secret: "s3cret", now: at + 240, expected: true),
            Case(
                name: "replayed 6 minutes later", headers: plain, body: body, secret: "s3cret", now: at + 360,
                expected: false),
            Case(name: "6 minutes early", headers: plain, body: body, secret: "s3cret", now: at - 360, expected: false),
            Case(name: "wrong secret", headers: plain, body: body, secret: "other", now: at, expected: false),
            Case(name: "changed body", headers: plain, body: body + " ", secret: "s3cret", now: at, expected: false),
            Case(name: "changed id", headers: wrongId, body: body, secret: "s3cret", now: at, expected: false),
            Case(
                name: "changed timestamp", headers: laterStamp, body: body, secret: "s3cret", now: at, expected: false),
            Case(
                name: "new whsec_ secret", headers: rotated, body: body, secret: "whsec_bmV3LXNlY3JldA==", now: at,
                expected: true),
            Case(
                name: "old secret in the overlap", headers: rotated, body: body, secret: "s3cret", now: at,
                expected: true),
        ]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readme-webhook-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let casesFile = directory.appendingPathComponent("cases.json")
        try JSONEncoder().encode(cases).write(to: casesFile)
        let script = directory.appendingPathComponent("check.py")
        let harness = """
            \(try Self.readmeCheck())
            import json, sys
            for c in json.load(open(sys.argv[1])):
                got = tether_webhook_ok(c["headers"], c["body"].encode(), c["secret"], now=c["now"])
                print(f"{c['name']}: {'ok' if got == c['expected'] else 'WRONG'} ({got})")
            """
        try harness.write(to: script, atomically: true, encoding: .utf8)
        let (status, output) = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", script.path, casesFile.path])
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n")
        #expect(lines.count == cases.count, "\(output)")
        #expect(!output.contains("WRONG"), "\(output)")
    }
}
