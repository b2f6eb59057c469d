import Foundation
import HTTPTypes
import NIOHTTP1
import Testing
import TetherProtocol
import TetherServer
import TetherTestKit

/// `POST /v1/heartbeat` on the client port: `Authorization: Bearer <clientToken>` and a `ping` body,
/// answered by `pong`; the first heartbeat connects the session.
@Suite struct HTTPHeartbeatTests {
    static func body(_ message: ClientMessage) -> String { String(decoding: message.json, as: UTF8.self) }

    @Test func theFirstHeartbeatConnectsAndIsAnsweredWithPong() async throws {
        try await PlaneHarness.run { h in
            try await h.project()
            let c = try await h.session("alice")
            let reply = try await h.heartbeat(token: c.token, body: Self.body(.ping(seq: 1, t: 77)))
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply["type"].string == "pong" && reply["seq"].int == 1 && reply["t"].int == 77)
            #expect((reply["st"].int ?? 0) > 1_600_000_000_000)
            let session = try await h.wait(c.sessionId, state: "connected")
            #expect(session["transport"].string == "http" && session["epoch"].int == 1)
            // A gap in seq is a loss: 1, then 3.
            _ = try await h.heartbeat(token: c.token, body: Self.body(.ping(seq: 3, t: 78)))
            let stats = try await h.get(c.sessionId)["stats"]
            #expect(stats["heartbeats"].int == 2, "\(stats)")
            #expect(stats["lossRate"].doubleValue == 0.5, "\(stats)")
        }
    }

    @Test func badCredentialsAreRefused() async throws {
        try await PlaneHarness.run { h in
            try await h.project()
            let c = try await h.session("alice")
            let ping = Self.body(.ping(seq: 1, t: 1))
            let forged = c.token.dropLast(4) + (c.token.hasSuffix("AAAA") ? "BBBB" : "AAAA")
            for token in [nil, "", "nonsense", "v1.e30.AAAA", String(forged)] as [String?] {
                let reply = try await h.heartbeat(token: token, body: ping)
                #expect(reply.status == 401, "\(token ?? "none"): \(reply.text)")
                // The API's error shape (issue 12, item 4), with the kick's reason.
                let error = reply["error"]
                #expect(error["code"].string == "AuthFailure" && error["kick"].string == "badToken", "\(reply.text)")
                #expect(error["requestId"].string?.count == 32, "\(reply.text)")
                #expect(reply.requestId == error["requestId"].string, "\(reply.text)")
                #expect(reply["type"].isNull, "\(reply.text)")
            }
            #expect(try await h.get(c.sessionId)["state"].string == "created")
        }
    }

    @Test func wrongRoutesMethodsAndBodies() async throws {
        try await PlaneHarness.run { h in
            try await h.project()
            let c = try await h.session("alice")
            let get = try await HeartbeatHTTP.call(port: h.clientPort, method: .GET, token: c.token, body: "")
            #expect(get.status == 405, "\(get.text)")
            let elsewhere = try await HeartbeatHTTP.call(
                port: h.clientPort, path: "/v1/nothing", token: c.token, body: Self.body(.ping(seq: 1, t: 1)))
            #expect(elsewhere.status == 404, "\(elsewhere.text)")
            let bodies = [
                "{nope", #"{"type":"dance"}"#, #"{"type":"ping"}"#, Self.body(.hello(.token(c.token))),
                Self.body(.pong(seq: 1, t: 1)),
            ]
            for body in bodies {
                let reply = try await h.heartbeat(token: c.token, body: body)
                #expect(reply.status == 400, "\(body): \(reply.status) \(reply.text)")
                // A refused request changes nothing.
                let state = try await h.get(c.sessionId)["state"].string
                #expect(state == "created", "after \(body) (\(reply.status)) the session is \(state ?? "?")")
            }
            let big = #"{"type":"ping","seq":1,"pad":""# + String(repeating: "x", count: 70_000) + #""}"#
            let tooLarge = try await h.heartbeat(token: c.token, body: big)
            #expect(tooLarge.status == 413, "\(tooLarge.text)")
        }
    }

    @Test func silenceMeansGraceAndTheNextHeartbeatReconnects() async throws {
        try await PlaneHarness.run { h in
            try await h.project(intervalMs: 200, timeoutMs: 600)
            let c = try await h.session("alice")
            #expect(try await h.heartbeat(token: c.token, body: Self.body(.ping(seq: 1, t: 1))).status == 200)
            let grace = try await h.wait(c.sessionId, state: "grace")
            #expect(grace["lastCause"].string == "heartbeatTimeout")
            let again = try await h.heartbeat(token: c.token, body: Self.body(.ping(seq: 2, t: 2)))
            #expect(again.status == 200 && again["type"].string == "pong", "\(again.text)")
            // Heartbeating on (as a client does), the session is connected again in the same epoch; the
            // event log says it came back from grace.
            var session = try await h.get(c.sessionId)
            for seq in 3..<100 where session["state"].string != "connected" {
                _ = try await h.heartbeat(token: c.token, body: Self.body(.ping(seq: UInt64(seq), t: 3)))
                session = try await h.get(c.sessionId)
            }
            #expect(session["state"].string == "connected", "\(session)")
            #expect(session["epoch"].int == 1)
            let events = try await h.api.get("/v1/events?projectId=p&limit=1000")
            #expect(events["events"].array.contains { $0["type"].string == "session.reconnected" })
        }
    }

    @Test func suspendThenBye() async throws {
        try await PlaneHarness.run { h in
            try await h.project(capacity: 1)
            let c = try await h.session("alice")
            #expect(try await h.heartbeat(token: c.token, body: Self.body(.ping(seq: 1, t: 1))).status == 200)
            let suspend = try await h.heartbeat(
                token: c.token, body: Self.body(.suspend(expectedMs: 60_000, reason: "networkChange")))
            #expect(suspend.status == 200, "\(suspend.text)")
            try await h.wait(c.sessionId, state: "suspended")
            let badReason = try await h.heartbeat(
                token: c.token, body: Self.body(.suspend(expectedMs: 60_000, reason: "nap")))
            #expect(badReason.status == 400, "\(badReason.text)")
            let bye = try await h.heartbeat(token: c.token, body: Self.body(.bye))
            #expect(bye.status == 200, "\(bye.text)")
            let ended = try await h.wait(c.sessionId, state: "ended")
            #expect(ended["endReason"].string == "left")
            #expect(try await h.api.get("/v1/projects/p/concurrency")["idle"].int == 1)
            let after = try await h.heartbeat(token: c.token, body: Self.body(.ping(seq: 2, t: 2)))
            #expect(
                after.status == 410 && after["error"]["kick"].string == "left",
                "\(after.text)")
        }
    }

    @Test func destroyedAndExpiredSessionsAreToldSo() async throws {
        try await PlaneHarness.run { h in
            // Destroyed: in a project whose timeouts a stall of the loaded test machine cannot reach (with 600 ms
            // the session once expired before the DELETE, and the heartbeat was rightly told `expired`).
            try await h.project("calm", intervalMs: 1_000, timeoutMs: 30_000, graceMs: 60_000)
            let a = try await h.session("alice", project: "calm")
            #expect(try await h.heartbeat(token: a.token, body: Self.body(.ping(seq: 1, t: 1))).status == 200)
            let deleted = try await h.api.delete("/v1/sessions/\(a.sessionId)")
            #expect(deleted.status == .ok, "\(deleted.text)")
            let destroyed = try await h.heartbeat(token: a.token, body: Self.body(.ping(seq: 2, t: 2)))
            #expect(destroyed.status == 410 && destroyed["error"]["kick"].string == "destroyed", "\(destroyed.text)")

            // Expired: short timeouts, so that the grace window ends within the test.
            try await h.project(intervalMs: 200, timeoutMs: 600, graceMs: 300)
            let b = try await h.session("bob")
            #expect(try await h.heartbeat(token: b.token, body: Self.body(.ping(seq: 1, t: 1))).status == 200)
            let ended = try await h.wait(b.sessionId, state: "ended")
            #expect(ended["endReason"].string == "graceExpired")
            let late = try await h.heartbeat(token: b.token, body: Self.body(.ping(seq: 2, t: 2)))
            #expect(late.status == 410 && late["error"]["kick"].string == "expired", "\(late.text)")
        }
    }

    @Test func anOlderEpochsTokenIsRefused() async throws {
        try await PlaneHarness.run { h in
            try await h.project()
            let c1 = try await h.session("alice")
            #expect(try await h.heartbeat(token: c1.token, body: Self.body(.ping(seq: 1, t: 1))).status == 200)
            let c2 = try await h.session("alice")
            #expect(c2.epoch == 2)
            // The old epoch's client was kicked `replaced` by CreateSession: its next heartbeat is told so.
            let stale = try await h.heartbeat(token: c1.token, body: Self.body(.ping(seq: 2, t: 2)))
            #expect(stale.status == 409 && stale["error"]["kick"].string == "replaced", "\(stale.text)")
            #expect(try await h.get(c1.sessionId)["state"].string == "grace")
            #expect(try await h.heartbeat(token: c2.token, body: Self.body(.ping(seq: 1, t: 1))).status == 200)
            let session = try await h.wait(c1.sessionId, state: "connected")
            #expect(session["epoch"].int == 2)
            // Once the new epoch is heartbeating, the old token is simply refused.
            let refused = try await h.heartbeat(token: c1.token, body: Self.body(.ping(seq: 3, t: 3)))
            #expect(refused.status == 401 && refused["error"]["kick"].string == "badToken", "\(refused.text)")
            #expect(try await h.get(c1.sessionId)["epoch"].int == 2)
        }
    }

    /// A heartbeat with a stale token must not disturb the current epoch's HTTP client: no spurious
    /// disconnect (cause `replaced`) and reconnect of the live session.
    @Test func aStaleHeartbeatDoesNotDisturbTheCurrentClient() async throws {
        try await PlaneHarness.run { h in
            try await h.project()
            let c1 = try await h.session("alice")
            let c2 = try await h.session("alice")
            #expect(try await h.heartbeat(token: c2.token, body: Self.body(.ping(seq: 1, t: 1))).status == 200)
            let before = try await h.wait(c2.sessionId, state: "connected")["history"].array.count
            #expect(try await h.heartbeat(token: c1.token, body: Self.body(.ping(seq: 1, t: 1))).status == 401)
            #expect(try await h.heartbeat(token: c2.token, body: Self.body(.ping(seq: 2, t: 2))).status == 200)
            let session = try await h.wait(c2.sessionId, state: "connected")
            let later = session["history"].array.dropFirst(before).compactMap { $0["type"].string }
            #expect(later.isEmpty, "the stale heartbeat caused: \(later)")
        }
    }

    /// A socket connection of the same session takes over from HTTP; the HTTP client is then told `replaced`.
    @Test func aSocketLoginReplacesHTTP() async throws {
        try await PlaneHarness.run { h in
            try await h.project()
            let c = try await h.session("alice")
            #expect(try await h.heartbeat(token: c.token, body: Self.body(.ping(seq: 1, t: 1))).status == 200)
            let (ws, _) = try await h.connected(.websocket, c)
            #expect(try await ws.ping(seq: 1) != nil)
            let replaced = try await h.heartbeat(token: c.token, body: Self.body(.ping(seq: 2, t: 2)))
            #expect(replaced.status == 409 && replaced["error"]["kick"].string == "replaced", "\(replaced.text)")
            let session = try await h.wait(c.sessionId, state: "connected")
            #expect(session["transport"].string == "websocket")
            #expect(!ws.inbox.isClosed)
        }
    }
}
