import Foundation
import HTTPTypes
import Testing
import TetherProtocol
import TetherTestKit

/// Live queued clients on the client plane (issue 15, item 3), on WebSocket and TCP: `hello {queueToken}` gets
/// `queued`, a change of place is pushed, the offer comes as `offered`, a second connection replaces the
/// first, `bye` and silence take the ticket out, and a queue token is no client token (nor the reverse).
@Suite struct QueueClientProtocolTests {
    /// A project of capacity 1 held by a session, its queue on, `users` queued in order; their queue tokens.
    static func fullPool(_ h: PlaneHarness, users: [String], clientTimeoutMs: Int = 10_000) async throws
        -> (holder: Credentials, tokens: [String: String])
    {
        try await h.project(
            capacity: 1, extra: #","queue":{"enabled":true,"clientTimeoutMs":\#(clientTimeoutMs)}"#)
        let holder = try await h.session("holder")
        var tokens: [String: String] = [:]
        for user in users {
            let queued = try await h.api.post(
                "/v1/projects/p/concurrency/apply", #"{"userId":"\#(user)","queue":true}"#)
            try #require(queued.status == .accepted, "\(queued.text)")
            let token: String = try #require(queued["queueToken"].string, "no queueToken: \(queued.text)")
            tokens[user] = token
        }
        return (holder, tokens)
    }

    @Test(arguments: Wire.allCases)
    func aQueuedClientIsToldItsPlaceItsMovesAndItsOffer(_ wire: Wire) async throws {
        try await PlaneHarness.run { h in
            let (holder, tokens) = try await Self.fullPool(h, users: ["a", "b"])
            let b = try await h.connect(wire, answerPings: true)
            try await b.send(.hello(.queueToken(try #require(tokens["b"]))))
            let first = try #require(await b.inbox.wait(for: "queued"), "queued after hello")
            #expect(first.json["position"].int == 2 && first.json["ticketId"].string?.hasPrefix("qt-") == true)
            if wire == .tcp { #expect(first.frameType == FrameType.queued.rawValue) }
            #expect(try await b.ping(seq: 1) != nil, "a queued client heartbeats like a session")
            let listed = try await h.api.get("/v1/projects/p/queue/b")
            #expect(listed["clientConnected"].bool == true)

            // a leaves: b is told its new place (within the push period).
            _ = try await h.api.delete("/v1/projects/p/queue/a")
            let moved = await b.inbox.wait(for: "queued", within: .seconds(5)) { $0["position"].int == 1 }
            #expect(moved != nil, "b told position 1")

            // The holder's session ends: b is offered its concurrency, on the same connection.
            _ = try await h.api.delete("/v1/sessions/\(holder.sessionId)")
            let offered = try #require(await b.inbox.wait(for: "offered"), "offered")
            #expect(offered.json["concurrencyId"].string == holder.concurrencyId)
            #expect((offered.json["reservedUntil"].int ?? 0) > 0)
            if wire == .tcp { #expect(offered.frameType == FrameType.offered.rawValue) }
            // Its backend creates the session: the ticket leaves (taken) and the queue connection is closed.
            let created = try await h.api.post("/v1/projects/p/sessions", #"{"userId":"b"}"#)
            #expect(created.status == .created)
            #expect(await b.inbox.waitClosed(), "the queue connection ends once the offer is taken")
            #expect(b.inbox.messages("kick").last?.json["reason"].string == "left")
        }
    }

    @Test(arguments: Wire.allCases)
    func aSecondConnectionReplacesTheFirstAndByeLeaves(_ wire: Wire) async throws {
        try await PlaneHarness.run { h in
            let (_, tokens) = try await Self.fullPool(h, users: ["a", "b"])
            let token = try #require(tokens["a"])
            let first = try await h.connect(wire, answerPings: true)
            try await first.send(.hello(.queueToken(token)))
            #expect(await first.inbox.wait(for: "queued") != nil)
            let second = try await h.connect(wire, answerPings: true)
            try await second.send(.hello(.queueToken(token)))
            #expect(await second.inbox.wait(for: "queued") != nil)
            #expect(await first.inbox.waitClosed())
            #expect(first.inbox.messages("kick").last?.json["reason"].string == "replaced")

            try await second.send(.bye)
            #expect(await second.inbox.waitClosed())
            let gone = try await eventually(within: .seconds(5)) {
                try await h.api.get("/v1/projects/p/queue/a").status == .notFound
            }
            #expect(gone, "bye takes the ticket out")
            let events = try await h.api.get("/v1/events?projectId=p&limit=1000")["events"].array
            #expect(
                events.contains {
                    $0["type"].string == "queue.left" && $0["userId"].string == "a"
                        && $0["data"]["reason"].string == "left"
                })
            #expect(try await h.api.get("/v1/projects/p/queue")["length"].int == 1)
        }
    }

    @Test func aSilentQueuedClientLeavesTheQueueAndOneThatNeverConnectedStays() async throws {
        try await PlaneHarness.run { h in
            let (_, tokens) = try await Self.fullPool(h, users: ["a", "b"], clientTimeoutMs: 1_000)
            // It does not answer server pings and sends nothing.
            let silent = try await h.websocket(answerPings: false)
            try await silent.send(.hello(.queueToken(try #require(tokens["a"]))))
            #expect(await silent.inbox.wait(for: "queued") != nil)
            let gone = try await eventually(within: .seconds(10)) {
                try await h.api.get("/v1/projects/p/queue/a").status == .notFound
            }
            #expect(gone, "the silent client's ticket left")
            #expect(await silent.inbox.waitClosed())
            #expect(silent.inbox.messages("kick").last?.json["reason"].string == "expired")
            let events = try await h.api.get("/v1/events?projectId=p&limit=1000")["events"].array
            #expect(events.contains { $0["type"].string == "queue.left" && $0["data"]["reason"].string == "timeout" })
            #expect(try await h.api.get("/v1/projects/p/queue/b")["position"].int == 1, "b never connected: it stays")
        }
    }

    @Test func aQueueTokenIsNoClientTokenNorTheReverse() async throws {
        try await PlaneHarness.run { h in
            let (holder, tokens) = try await Self.fullPool(h, users: ["a"])
            let queueToken = try #require(tokens["a"])
            let asClient = try await h.websocket()
            try await asClient.send(.hello(.token(queueToken)))
            #expect(await asClient.inbox.waitClosed())
            #expect(asClient.inbox.messages("kick").last?.json["reason"].string == "badToken")
            let asQueue = try await h.websocket()
            try await asQueue.send(.hello(.queueToken(holder.token)))
            #expect(await asQueue.inbox.waitClosed())
            #expect(asQueue.inbox.messages("kick").last?.json["reason"].string == "badToken")
            // A cancelled ticket's token is refused too.
            _ = try await h.api.delete("/v1/projects/p/queue/a")
            let cancelled = try await h.websocket()
            try await cancelled.send(.hello(.queueToken(queueToken)))
            #expect(await cancelled.inbox.waitClosed())
            #expect(cancelled.inbox.messages("kick").last?.json["reason"].string == "badToken")
            // Over HTTP too, a cancelled ticket's queue token is refused.
            let http = try await h.heartbeat(token: queueToken, body: #"{"type":"ping","seq":1}"#)
            #expect(http.status == 401 && http["error"]["kick"].string == "badToken", "\(http.text)")
            // Two credentials in one hello are refused as a malformed message; the holder's session is untouched.
            let both = try await h.websocket()
            try await both.send(json: #"{"type":"hello","token":"\#(holder.token)","queueToken":"\#(queueToken)"}"#)
            #expect(await both.inbox.waitClosed())
            #expect(try await h.get(holder.sessionId)["state"].string == "created")
        }
    }
}
