import Foundation
import HTTPTypes
import Testing
import TetherProtocol
import TetherTestKit

/// Queued clients over HTTP heartbeats (issue 15, item 3: `hello {queueToken}` on WebSocket, TCP and HTTP):
/// `POST /v1/heartbeat` with the queue token is answered with the ticket's place, then its offer; silence for
/// `queue.clientTimeoutMs` or `bye` takes the ticket out; a socket connection with the same token replaces it.
@Suite struct QueueHTTPClientTests {
    static let ping = #"{"type":"ping","seq":1,"t":0}"#

    @Test func aQueuedHTTPClientIsAnsweredItsPlaceItsMovesAndItsOffer() async throws {
        try await PlaneHarness.run { h in
            let (holder, tokens) = try await QueueClientProtocolTests.fullPool(h, users: ["a", "b"])
            let b = try #require(tokens["b"])
            let first = try await h.heartbeat(token: b, body: Self.ping)
            #expect(first.status == 200, "\(first.text)")
            #expect(first["type"].string == "queued" && first["position"].int == 2)
            #expect(first["ticketId"].string?.hasPrefix("qt-") == true)
            #expect(try await h.api.get("/v1/projects/p/queue/b")["clientConnected"].bool == true)

            _ = try await h.api.delete("/v1/projects/p/queue/a")
            let moved = try await eventually(within: .seconds(5)) {
                try await h.heartbeat(token: b, body: Self.ping)["position"].int == 1
            }
            #expect(moved, "b answered position 1 once a left")

            _ = try await h.api.delete("/v1/sessions/\(holder.sessionId)")
            var offer: HeartbeatHTTP.Reply?
            _ = try await eventually(within: .seconds(5)) {
                let reply = try await h.heartbeat(token: b, body: Self.ping)
                if reply["type"].string == "offered" { offer = reply }
                return offer != nil
            }
            let offered = try #require(offer, "b answered its offer")
            #expect(offered.status == 200)
            #expect(offered["concurrencyId"].string == holder.concurrencyId)
            #expect((offered["reservedUntil"].int ?? 0) > 0)

            #expect(try await h.api.post("/v1/projects/p/sessions", #"{"userId":"b"}"#).status == .created)
            let after = try await h.heartbeat(token: b, body: Self.ping)
            #expect(after.status == 410 && after["error"]["kick"].string == "left", "\(after.text)")
        }
    }

    @Test func aSilentHTTPClientLeavesTheQueueAndIsToldSoOnce() async throws {
        try await PlaneHarness.run { h in
            let (_, tokens) = try await QueueClientProtocolTests.fullPool(h, users: ["a", "b"], clientTimeoutMs: 1_000)
            let a = try #require(tokens["a"])
            #expect(try await h.heartbeat(token: a, body: Self.ping).status == 200)
            let gone = try await eventually(within: .seconds(10)) {
                try await h.api.get("/v1/projects/p/queue/a").status == .notFound
            }
            #expect(gone, "the silent client's ticket left")
            let events = try await h.api.get("/v1/events?projectId=p&limit=1000")["events"].array
            #expect(events.contains { $0["type"].string == "queue.left" && $0["data"]["reason"].string == "timeout" })
            let told = try await h.heartbeat(token: a, body: Self.ping)
            #expect(told.status == 410 && told["error"]["kick"].string == "expired", "\(told.text)")
            let again = try await h.heartbeat(token: a, body: Self.ping)
            #expect(again.status == 401 && again["error"]["kick"].string == "badToken", "\(again.text)")
            #expect(try await h.api.get("/v1/projects/p/queue/b")["position"].int == 1, "b never connected: it stays")
        }
    }

    @Test func byeOverHTTPLeavesTheQueue() async throws {
        try await PlaneHarness.run { h in
            let (_, tokens) = try await QueueClientProtocolTests.fullPool(h, users: ["a", "b"])
            let a = try #require(tokens["a"])
            // A bye before the first heartbeat leaves nothing: the ticket was never this client's.
            #expect(try await h.heartbeat(token: a, body: #"{"type":"bye"}"#).status == 410)
            #expect(try await h.api.get("/v1/projects/p/queue/a").status == .ok)
            #expect(try await h.heartbeat(token: a, body: Self.ping).status == 200)
            #expect(try await h.heartbeat(token: a, body: #"{"type":"bye"}"#).status == 200)
            #expect(try await h.api.get("/v1/projects/p/queue/a").status == .notFound)
            let events = try await h.api.get("/v1/events?projectId=p&limit=1000")["events"].array
            #expect(events.contains { $0["type"].string == "queue.left" && $0["data"]["reason"].string == "left" })
            #expect(try await h.api.get("/v1/projects/p/queue/b")["position"].int == 1)
        }
    }

    @Test func aSocketConnectionReplacesTheHTTPClientAndTheNextHeartbeatTakesItBack() async throws {
        try await PlaneHarness.run { h in
            let (_, tokens) = try await QueueClientProtocolTests.fullPool(h, users: ["a"])
            let a = try #require(tokens["a"])
            #expect(try await h.heartbeat(token: a, body: Self.ping).status == 200)
            let socket = try await h.websocket(answerPings: true)
            try await socket.send(.hello(.queueToken(a)))
            #expect(await socket.inbox.wait(for: "queued") != nil)
            let replaced = try await h.heartbeat(token: a, body: Self.ping)
            #expect(replaced.status == 409 && replaced["error"]["kick"].string == "replaced", "\(replaced.text)")
            let back = try await h.heartbeat(token: a, body: Self.ping)
            #expect(back.status == 200 && back["type"].string == "queued", "\(back.text)")
            #expect(await socket.inbox.waitClosed())
            #expect(socket.inbox.messages("kick").last?.json["reason"].string == "replaced")
        }
    }

    @Test func whatAQueuedHTTPClientMayNotSendIsRefusedAndChangesNothing() async throws {
        try await PlaneHarness.run { h in
            let (_, tokens) = try await QueueClientProtocolTests.fullPool(h, users: ["a"])
            let a = try #require(tokens["a"])
            #expect(try await h.heartbeat(token: a, body: Self.ping).status == 200)
            for body in [
                #"{"type":"suspend","expectedMs":1000,"reason":"background"}"#, #"{"type":"hello","queueToken":"x"}"#,
                #"{"type":"ping","seq":1.0}"#, "not json",
            ] {
                let reply = try await h.heartbeat(token: a, body: body)
                #expect(reply.status == 400, "\(body): \(reply.text)")
            }
            #expect(try await h.api.get("/v1/projects/p/queue/a")["position"].int == 1)
            #expect(try await h.heartbeat(token: a, body: Self.ping)["type"].string == "queued")
        }
    }
}
