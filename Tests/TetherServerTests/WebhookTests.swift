import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing
import TetherTestKit

@testable import TetherServer

/// Webhooks end to end with a local receiver: signed, in order, retried until a 2xx, the delivery state in
/// the API, a durable outbox across kill -9, and a dead receiver that holds nothing else up.
@Suite struct WebhookTests {
    static let secret = "whsec-test-0123456789"

    /// A live server whose webhook retries start at 20 ms (`retry` changes that and the rest), its logs
    /// at notice level and above captured into `logs` when given.
    static func run(
        retry: WebhookDispatcher.Retry = WebhookDispatcher.Retry(baseMs: 20), logs: LoggingTests.Box? = nil,
        _ body: @escaping @Sendable (API) async throws -> Void
    ) async throws {
        var configuration = TestServer().configuration()
        configuration.webhookRetry = retry
        if let logs {
            configuration.logLevel = .notice
            configuration.logHandler = { _ in LoggingTests.Capture(box: logs) }
        }
        let app = try await TetherServer(configuration: configuration).makeApplication()
        try await app.test(.live) { client in try await body(API(client: client)) }
    }

    static func events(_ api: API, project: String) async throws -> [UInt64] {
        let reply = try await api.get("/v1/events?projectId=\(project)&limit=1000")
        return reply["events"].array.compactMap { $0["cursor"].int.map(UInt64.init) }
    }

    static func open(_ api: API, _ project: String, _ user: String) async throws -> String {
        _ = try await api.post("/v1/projects/\(project)/concurrency/apply", #"{"userId":"\#(user)"}"#)
        let created = try await api.post("/v1/projects/\(project)/sessions", #"{"userId":"\#(user)"}"#)
        return try #require(created["sessionId"].string)
    }

    @Test func deliversSignedEventsInOrderRetryingUntilA2xxAndShowsTheState() async throws {
        let receiver = try await WebhookReceiver()
        defer { Task { await receiver.close() } }
        let failing = SharedFlag()
        receiver.respond { _, _ in failing.value ? 500 : 200 }
        try await Self.run { api in
            let created = try await api.post(
                "/v1/projects",
                #"{"id":"wh","capacity":5,"webhook":{"url":"\#(receiver.url)","secret":"\#(Self.secret)"}}"#)
            #expect(created.status == .created)
            let a = try await Self.open(api, "wh", "alice")
            _ = try await Self.open(api, "wh", "bob")
            _ = try await api.delete("/v1/sessions/\(a)")

            // While the receiver fails, the API shows the head event retrying with its error.
            let retrying = try await eventually(within: .seconds(10)) {
                let s = try await api.get("/v1/projects/wh/webhook")
                return s["state"].string == "retrying" && s["lastError"].string == "status 500"
                    && (s["attempts"].int ?? 0) >= 2 && (s["pending"].int ?? 0) >= 5
            }
            let state = try await api.get("/v1/projects/wh/webhook").text
            #expect(retrying, "\(state)")
            failing.value = false

            let cursors = try await Self.events(api, project: "wh")
            #expect(cursors.count == 6)  // 2 × (reserved, created), then ended + released
            let all = await eventually(within: .seconds(10)) { receiver.delivered.count >= cursors.count }
            #expect(all)
            let delivered = receiver.delivered
            #expect(delivered.map(\.cursor) == cursors.map { Optional($0) }, "each event once, in cursor order")
            // The first event was tried until it got its 2xx.
            let firstAttempts = receiver.requests.filter { $0.0.cursor == cursors.first }.compactMap(\.0.attempt)
            #expect(firstAttempts.count >= 3)
            #expect(firstAttempts == Array(1...firstAttempts.count))
            let now = Int64(Date().timeIntervalSince1970)
            for (request, _) in receiver.requests {
                // Standard Webhooks: the same id on every attempt, the attempt's time, signed with the secret.
                #expect(request.headers["webhook-id"] == request.cursor.map { "evt_\($0)" })
                let id = try #require(request.headers["webhook-id"])
                let timestamp = try #require(request.headers["webhook-timestamp"])
                let signatures = try #require(request.headers["webhook-signature"])
                #expect(signatures.split(separator: " ").count == 1)
                #expect(
                    StandardWebhookSignature.verify(
                        id: id, timestamp: timestamp, signatures: signatures, body: request.body, secret: Self.secret,
                        now: now))
                #expect(
                    !StandardWebhookSignature.verify(
                        id: id, timestamp: timestamp, signatures: signatures, body: request.body, secret: Self.secret,
                        now: now + 6 * 60), "a delivery replayed 6 minutes later fails the check")
                // The deprecated header, for one release.
                let signature = try #require(request.headers["x-tether-signature"])
                #expect(WebhookSignature.verify(header: signature, body: request.body, secret: Self.secret))
                #expect(!WebhookSignature.verify(header: signature, body: request.body, secret: "wrong"))
                let json = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
                #expect(json["projectId"] as? String == "wh")
                #expect((json["cursor"] as? NSNumber)?.uint64Value == request.cursor)
                #expect(json["type"] as? String == request.headers["x-tether-event-type"])
            }
            let done = try await eventually(within: .seconds(5)) {
                let s = try await api.get("/v1/projects/wh/webhook")
                return s["state"].string == "idle" && s["pending"].int == 0
            }
            #expect(done)
            let status = try await api.get("/v1/projects/wh/webhook")
            #expect(status["deliveredCursor"].int.map(UInt64.init) == cursors.last)
            #expect(status["delivered"].int == cursors.count)
            #expect((status["failures"].int ?? 0) >= 2)
        }
    }

    @Test func aWebhookAddedLaterStartsFromThenAndCanBeRemoved() async throws {
        let receiver = try await WebhookReceiver()
        defer { Task { await receiver.close() } }
        try await Self.run { api in
            _ = try await api.post("/v1/projects", #"{"id":"late","capacity":5}"#)
            _ = try await Self.open(api, "late", "before")
            let missing = try await api.get("/v1/projects/late/webhook")
            #expect(missing.status == .notFound && missing.code == "ResourceNotFound.Webhook")
            #expect(try await api.get("/v1/projects/none/webhook").code == "ResourceNotFound.Project")

            let earlier = try await Self.events(api, project: "late")
            let patched = try await api.call(
                .patch, "/v1/projects/late",
                json: #"{"webhook":{"url":"\#(receiver.url)","secret":"\#(Self.secret)"}}"#)
            #expect(patched.status == .ok)
            _ = try await Self.open(api, "late", "after")
            let now = try await Self.events(api, project: "late")
            let expected = now.filter { !earlier.contains($0) }
            #expect(expected.count == 2)
            let got = await eventually(within: .seconds(10)) { receiver.delivered.count >= expected.count }
            #expect(got)
            #expect(receiver.delivered.map(\.cursor) == expected.map { Optional($0) })

            // Removed: later events are not sent.
            _ = try await api.call(.patch, "/v1/projects/late", json: #"{"webhook":null}"#)
            _ = try await Self.open(api, "late", "third")
            try await Task.sleep(for: .milliseconds(300))
            #expect(receiver.delivered.count == expected.count)
        }
    }

    @Test func aNewSecretSignsBesideTheOldOneSoAReceiverCanMoveToIt() async throws {
        let receiver = try await WebhookReceiver()
        defer { Task { await receiver.close() } }
        try await Self.run { api in
            let created = try await api.post(
                "/v1/projects", #"{"id":"rot","capacity":5,"webhook":{"url":"\#(receiver.url)","secret":"old-secret"}}"#
            )
            #expect(created.status == .created)
            _ = try await Self.open(api, "rot", "before")
            let first = await eventually(within: .seconds(10)) { receiver.delivered.count >= 2 }
            #expect(first)
            let patched = try await api.call(
                .patch, "/v1/projects/rot",
                json: #"{"webhook":{"url":"\#(receiver.url)","secret":"whsec_bmV3LXNlY3JldA=="}}"#)
            #expect(patched.status == .ok)
            #expect(patched.text.contains("\"url\"") && !patched.text.contains("secret"), "no secret shown")
            _ = try await Self.open(api, "rot", "after")
            let second = await eventually(within: .seconds(10)) { receiver.delivered.count >= 4 }
            #expect(second)
            let now = Int64(Date().timeIntervalSince1970)
            for (index, request) in receiver.delivered.enumerated() {
                let id = try #require(request.headers["webhook-id"])
                let timestamp = try #require(request.headers["webhook-timestamp"])
                let signatures = try #require(request.headers["webhook-signature"])
                func checks(_ secret: String) -> Bool {
                    StandardWebhookSignature.verify(
                        id: id, timestamp: timestamp, signatures: signatures, body: request.body, secret: secret,
                        now: now)
                }
                if index < 2 {
                    #expect(signatures.split(separator: " ").count == 1 && checks("old-secret"))
                } else {
                    // Both secrets sign during the overlap: a receiver on either accepts the delivery.
                    #expect(signatures.split(separator: " ").count == 2, "\(signatures)")
                    #expect(checks("whsec_bmV3LXNlY3JldA==") && checks("old-secret") && !checks("other"))
                    // The deprecated header carries the current secret only.
                    let legacy = try #require(request.headers["x-tether-signature"])
                    #expect(
                        WebhookSignature.verify(header: legacy, body: request.body, secret: "whsec_bmV3LXNlY3JldA=="))
                }
            }
        }
    }

    @Test func aDeadReceiverHoldsUpNeitherTheAPINorHeartbeats() async throws {
        try await PlaneHarness.run { h in
            let dead = RefusingPort()  // bound, never listening: held for the whole test
            try await h.project(
                "dead", intervalMs: 200, timeoutMs: 30_000,  // 30 s: the pings below must be answered, not expire
                extra: #","webhook":{"url":"http://127.0.0.1:\#(dead.port)/hook","secret":"\#(Self.secret)"}"#)
            let c = try await h.session("alice", project: "dead")
            let client = try await h.websocket()
            _ = try #require(try await client.hello(token: c.token))
            // The client heartbeats from its own task for the whole test, as a healthy one does, so that a
            // slow API call on a loaded machine never starves it: at least 20 pings, every one answered, whatever
            // the deliveries do.
            let beating = SharedFlag()
            let heart = Task {
                var seq: UInt64 = 0
                var unanswered = 0
                while beating.value || seq < 20 {
                    seq += 1
                    if try await client.ping(seq: seq)?["seq"].int != Int(seq) { unanswered += 1 }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return (sent: seq, unanswered: unanswered)
            }
            for i in 0..<5 { _ = try await h.session("user\(i)", project: "dead") }
            let failing = try await eventually(within: .seconds(10), every: .milliseconds(100)) {
                let s = try await h.api.get("/v1/projects/dead/webhook")
                return s["state"].string == "retrying" && (s["failures"].int ?? 0) >= 1 && s["lastError"].string != nil
            }
            #expect(failing)
            #expect(try await h.api.get("/v1/projects/dead/webhook")["lastError"].string == "connect refused")
            beating.value = false
            let beats = try await heart.value
            #expect(beats.sent >= 20)
            #expect(beats.unanswered == 0)
            let session = try await h.get(c.sessionId)
            #expect(session["state"].string == "connected")
            await client.abort()
            withExtendedLifetime(dead) {}
        }
    }

    @Test func pendingEventsSurviveKill9AndAreDeliveredAfterTheRestart() async throws {
        let receiver = try await WebhookReceiver()
        defer { Task { await receiver.close() } }
        let failing = SharedFlag()
        receiver.respond { _, _ in failing.value ? 503 : 200 }
        let key = "webhook-key-0123456789"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tether-wh-\(UUID()).sqlite").path
        var server = try await ServeProcess.start(dataPath: path, apiKey: key)
        _ = try await server.call(
            "POST", "/v1/projects",
            // Reservations that outlive the test: a lapsed one is a fourth event (a fresh-clone CI run took 48 s).
            #"{"id":"dur","capacity":5,"reservationTtlMs":600000,"webhook":{"url":"\#(receiver.url)","secret":"\#(Self.secret)"}}"#,
            key: key)
        for user in ["a", "b", "c"] {
            _ = try await server.call("POST", "/v1/projects/dur/concurrency/apply", #"{"userId":"\#(user)"}"#, key: key)
        }
        let tried = await eventually(within: .seconds(10)) { !receiver.requests.isEmpty }
        #expect(tried)
        #expect(receiver.delivered.isEmpty)
        await server.kill9()

        failing.value = false
        server = try await ServeProcess.start(dataPath: path, apiKey: key)
        defer { server.stop() }
        let all = await eventually(within: .seconds(15)) { receiver.delivered.count >= 3 }
        #expect(all)
        let (_, body) = try await server.call("GET", "/v1/events?projectId=dur", key: key)
        let cursors = ((body as? [String: Any])?["events"] as? [[String: Any]] ?? []).compactMap {
            ($0["cursor"] as? NSNumber)?.uint64Value
        }
        #expect(receiver.delivered.map(\.cursor) == cursors.map { Optional($0) })
    }
}

/// A flag shared between a test and a closure or task it starts (true at first).
final class SharedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = true
    var value: Bool {
        get { lock.withLock { flag } }
        set { lock.withLock { flag = newValue } }
    }
}
