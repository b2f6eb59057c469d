import Foundation
import HTTPTypes
import Testing
import TetherTestKit

@testable import TetherServer

/// A deleted project's webhook stops when the DELETE is answered: a POST in flight is cancelled, a retry
/// waiting in its backoff never happens, and a new project with the same id does not inherit the old one's
/// events.
@Suite struct WebhookDeletionTests {
    /// The project an event POSTed to the receiver belongs to.
    static func project(of request: WebhookReceiver.Request) -> String? {
        let json = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
        return json?["projectId"] as? String
    }

    /// Requests the receiver got for `project`.
    static func count(_ receiver: WebhookReceiver, _ project: String) -> Int {
        receiver.requests.filter { Self.project(of: $0.0) == project }.count
    }

    static func create(_ api: API, _ project: String, _ receiver: WebhookReceiver) async throws {
        let created = try await api.post(
            "/v1/projects",
            #"{"id":"\#(project)","capacity":5,"webhook":{"url":"\#(receiver.url)","secret":"\#(WebhookTests.secret)"}}"#
        )
        #expect(created.status == .created)
    }

    @Test func aPOSTInFlightIsCancelledBeforeTheDeleteIsAnsweredAndTheIdStartsAfresh() async throws {
        let receiver = try await WebhookReceiver()
        defer { Task { await receiver.close() } }
        let holding = SharedFlag()  // true: hold every request open, never answering
        receiver.respond { _, _ in holding.value ? WebhookReceiver.hold : 200 }
        // Without the cancellation the held POST would stay open for two minutes.
        try await WebhookTests.run(retry: WebhookDispatcher.Retry(baseMs: 20, timeoutMs: 120_000)) { api in
            try await Self.create(api, "gone", receiver)
            _ = try await WebhookTests.open(api, "gone", "alice")
            let inFlight = await eventually(within: .seconds(10)) { receiver.requests.count == 1 }
            #expect(inFlight)

            let deleted = try await api.delete("/v1/projects/gone")
            #expect(deleted.status == .ok)
            let cancelled = await eventually(within: .seconds(30)) { receiver.abandoned == 1 }
            #expect(cancelled, "the POST in flight was not cancelled")
            #expect(receiver.requests.count == 1)

            // A new project with the same id gets its own events only, none of the deleted one's.
            holding.value = false
            let before = Set(try await WebhookTests.events(api, project: "gone"))
            try await Self.create(api, "gone", receiver)
            _ = try await WebhookTests.open(api, "gone", "bob")
            let fresh = try await WebhookTests.events(api, project: "gone").filter { !before.contains($0) }
            #expect(fresh.count == 2)  // bob's concurrency.reserved and session.created
            let delivered = await eventually(within: .seconds(10)) { receiver.delivered.count >= fresh.count }
            #expect(delivered)
            #expect(receiver.delivered.map(\.cursor) == fresh.map { Optional($0) })
        }
    }

    @Test func aRetryWaitingInItsBackoffNeverHappensOnceTheDeleteIsAnswered() async throws {
        let receiver = try await WebhookReceiver()
        defer { Task { await receiver.close() } }
        receiver.respond { _, _ in 500 }
        // Retries every 10–40 ms, for both the project deleted and `tick`, which keeps time for the test.
        try await WebhookTests.run(retry: WebhookDispatcher.Retry(baseMs: 20, maxMs: 40)) { api in
            try await Self.create(api, "gone", receiver)
            try await Self.create(api, "tick", receiver)
            _ = try await WebhookTests.open(api, "gone", "alice")
            _ = try await WebhookTests.open(api, "tick", "bob")
            let retrying = await eventually(within: .seconds(10)) {
                Self.count(receiver, "gone") >= 3 && Self.count(receiver, "tick") >= 3
            }
            #expect(retrying)

            let deleted = try await api.delete("/v1/projects/gone")
            #expect(deleted.status == .ok)
            let sent = Self.count(receiver, "gone")
            // `tick` makes 10 more attempts: time for several of `gone`'s retries, had it kept going.
            let ticks = Self.count(receiver, "tick")
            let waited = await eventually(within: .seconds(30)) { Self.count(receiver, "tick") >= ticks + 10 }
            #expect(waited)
            // The bytes of an attempt begun before the DELETE was answered may reach the receiver just after
            // it; no attempt begins later.
            #expect(Self.count(receiver, "gone") <= sent + 1)
            #expect(try await api.get("/v1/projects/gone/webhook").code == "ResourceNotFound.Project")
        }
    }
}
