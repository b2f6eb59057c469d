import Foundation
import HTTPTypes
import Hummingbird
import Testing
import TetherCore
import TetherServer
import TetherTestKit

@Suite struct BackendAPITests {
    @Test func healthIsOpenAndEverythingElseNeedsTheKey() async throws {
        try await TestServer().run { api in
            let health = try await api.call(.get, "/healthz", key: nil)
            #expect(health.status == .ok && health["status"].string == "ok")
            #expect(try await api.call(.get, "/readyz", key: nil).status == .ok)
            for key in [nil, "wrong", ""] as [String?] {
                let r = try await api.call(.get, "/v1/projects", key: key)
                #expect(r.status == .unauthorized && r.code == "AuthFailure")
                #expect(r["error"]["requestId"].string == r.headers[HTTPField.Name("X-Request-Id")!])
            }
            let ok = try await api.get("/v1/projects")
            #expect(ok.status == .ok && ok["projects"].array.isEmpty)
            #expect(ok.headers[HTTPField.Name("X-Request-Id")!]?.count == 32)
        }
    }

    @Test func projectsAreCreatedReadUpdatedAndDeleted() async throws {
        try await TestServer().run { api in
            let created = try await api.post(
                "/v1/projects", #"{"id":"game","capacity":3,"heartbeat":{"intervalMs":1000,"timeoutMs":3000}}"#)
            #expect(created.status == .created)
            #expect(created["capacity"].int == 3 && created["heartbeat"]["timeoutMs"].int == 3000)
            #expect(created["reconnectGraceMs"].int == 90_000 && created["name"].string == "game")
            let again = try await api.post("/v1/projects", #"{"id":"game"}"#)
            #expect(again.status == .conflict && again.code == "ResourceInUse.Project")
            #expect(try await api.get("/v1/projects/game")["id"].string == "game")
            #expect(try await api.get("/v1/projects")["projects"].array.count == 1)
            let patched = try await api.call(
                .patch, "/v1/projects/game",
                json: #"{"capacity":5,"webhook":{"url":"https://example.test/h","secret":"s3cret"}}"#)
            #expect(patched.status == .ok && patched["capacity"].int == 5)
            #expect(patched["webhook"]["url"].string == "https://example.test/h" && patched["webhook"]["secret"].isNull)
            let removed = try await api.call(.patch, "/v1/projects/game", json: #"{"webhook":null}"#)
            #expect(removed["webhook"].isNull && removed["capacity"].int == 5)
            let deleted = try await api.delete("/v1/projects/game")
            #expect(deleted.status == .ok && deleted["id"].string == "game")
            let gone = try await api.get("/v1/projects/game")
            #expect(gone.status == .notFound && gone.code == "ResourceNotFound.Project")
        }
    }

    @Test func badInputIsATypedErrorThatNamesTheFieldAndChangesNothing() async throws {
        try await TestServer().run { api in
            let cases: [(String, String, String)] = [
                (#"{"id":"p","capacity":-1}"#, "InvalidParameterValue", "capacity"),
                (#"{"id":"p","capacity":"ten"}"#, "InvalidParameterValue", "capacity"),
                (
                    #"{"id":"p","heartbeat":{"intervalMs":5000,"timeoutMs":6000}}"#, "InvalidParameterValue",
                    "heartbeat.timeoutMs"
                ),
                (#"{"id":"p","webhook":{"url":"gopher://x","secret":"s"}}"#, "InvalidParameterValue", "webhook.url"),
                (#"{"capacity":1}"#, "InvalidParameter", "id"),
                (#"{"id":"bad id"}"#, "InvalidParameterValue", "id"),
                (#"{"id":"p","capacity":1"#, "InvalidParameter", "body"),
                (#"[1,2]"#, "InvalidParameterValue", "body"),
                ("", "InvalidParameter", "body"),
            ]
            for (body, code, field) in cases {
                let r = try await api.post("/v1/projects", body)
                #expect(r.status == .badRequest, "\(body)")
                #expect(r.code == code, "\(body): \(r.text)")
                #expect(r.message?.hasPrefix(field) == true, "\(body): \(r.text)")
            }
            #expect(try await api.get("/v1/projects")["projects"].array.isEmpty)
            let big = #"{"id":"p","name":""# + String(repeating: "x", count: 70_000) + #""}"#
            let tooLarge = try await api.post("/v1/projects", big)
            #expect(tooLarge.status == .contentTooLarge && tooLarge.code == "InvalidParameter.BodyTooLarge")
            let unknown = try await api.get("/v1/nothing-here")
            #expect(unknown.status == .notFound && unknown.code == "ResourceNotFound")
            let apply = try await api.post("/v1/projects/none/concurrency/apply", #"{"userId":"u"}"#)
            #expect(apply.status == .notFound && apply.code == "ResourceNotFound.Project")
            _ = try await api.post("/v1/projects", #"{"id":"p"}"#)
            let noUser = try await api.post("/v1/projects/p/concurrency/apply", #"{"userIp":"1.2.3.4"}"#)
            #expect(noUser.status == .badRequest && noUser.message?.hasPrefix("userId") == true)
            let badState = try await api.get("/v1/projects/p/sessions?state=sleeping")
            #expect(badState.status == .badRequest && badState.message?.hasPrefix("state") == true)
            let badCursor = try await api.get("/v1/events?after=-3")
            #expect(badCursor.status == .badRequest && badCursor.message?.hasPrefix("after") == true)
            #expect(try await api.get("/v1/projects/p/concurrency")["reserved"].int == 0)
        }
    }

    @Test func aMethodAPathDoesNotServeIs405WithAllow() async throws {
        try await TestServer().run { api in
            let cases: [(HTTPRequest.Method, String, String)] = [
                (.trace, "/healthz", "GET"), (.post, "/metrics", "GET"), (.put, "/v1/projects", "GET, POST"),
                (.post, "/v1/projects/p", "DELETE, GET, PATCH"), (.trace, "/v1/events", "GET"),
            ]
            for (method, path, allow) in cases {
                let r = try await api.call(method, path)
                #expect(
                    r.status == .methodNotAllowed && r.code == "UnsupportedOperation", "\(method) \(path): \(r.text)")
                #expect(r.headers[.allow] == allow, "\(method) \(path): \(r.headers)")
                #expect(r["error"]["requestId"].string?.isEmpty == false)
            }
            // Paths that do not exist stay 404.
            #expect(try await api.call(.trace, "/nowhere").status == .notFound)
        }
    }

    @Test func applyCreateCountDestroy() async throws {
        try await TestServer().run { api in
            _ = try await api.post("/v1/projects", #"{"id":"p","capacity":1}"#)
            let lock = try await api.post("/v1/projects/p/sessions", #"{"userId":"alice"}"#)
            #expect(lock.status == .conflict && lock.code == "FailedOperation.LockTimeout")
            let applied = try await api.post(
                "/v1/projects/p/concurrency/apply", #"{"userId":"alice","userIp":"10.0.0.1"}"#)
            #expect(
                applied.status == .ok && applied["reused"].bool == false && applied["concurrencyId"].string == "cc-p-1")
            let full = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"bob"}"#)
            #expect(full.status == .tooManyRequests && full.code == "ResourceNotFound.NoIdle")
            #expect(full["error"]["retryAfterMs"].int != nil && full.headers[.retryAfter] != nil)
            let created = try await api.post(
                "/v1/projects/p/sessions", #"{"userId":"alice","runMode":"RunWithoutClient","parameters":{"level":3}}"#)
            #expect(created.status == .created)
            let sessionId = try #require(created["sessionId"].string)
            #expect(created["epoch"].int == 1 && created["state"].string == "created")
            #expect(created["clientToken"].string?.hasPrefix("v2.") == true)
            let ws = try #require(created["connect"]["websocket"].string)
            #expect(ws.hasPrefix("ws://127.0.0.1:") && ws.hasSuffix("/v1/connect") && !ws.contains(":0/"))
            #expect(created["connect"]["tcp"].isNull)  // --tcp-port 0: TCP is off
            #expect(created["connect"]["http"].string?.hasSuffix("/v1/heartbeat") == true)
            #expect(created["heartbeat"]["intervalMs"].int == 5000 && created["reconnectGraceMs"].int == 90_000)
            let count = try await api.get("/v1/projects/p/concurrency")
            #expect(
                count["total"].int == 1 && count["idle"].int == 0 && count["running"].int == 1
                    && count["reserved"].int == 0)
            let detail = try await api.get("/v1/sessions/\(sessionId)")
            #expect(detail["state"].string == "created" && detail["parameters"]["level"].int == 3)
            #expect(detail["history"][0]["type"].string == "session.created" && detail["stats"]["heartbeats"].int == 0)
            #expect(try await api.get("/v1/projects/p/sessions?state=created")["sessions"].array.count == 1)
            let destroyed = try await api.delete("/v1/projects/p/users/alice/session")
            #expect(
                destroyed.status == .ok && destroyed["state"].string == "ended"
                    && destroyed["endReason"].string == "destroyed")
            #expect(try await api.get("/v1/projects/p/concurrency")["idle"].int == 1)
            // Ended sessions stay readable, from the store.
            let ended = try await api.get("/v1/sessions/\(sessionId)")
            #expect(
                ended.status == .ok && ended["endReason"].string == "destroyed" && ended["history"].array.count >= 2)
            #expect(try await api.get("/v1/projects/p/sessions?state=ended")["sessions"].array.count == 1)
            let again = try await api.delete("/v1/sessions/\(sessionId)")
            #expect(again.status == .notFound && again.code == "ResourceNotFound.SessionNotFound")
            // The event feed has it all, in order.
            let events = try await api.get("/v1/events?projectId=p")
            let types = events["events"].array.compactMap { $0["type"].string }
            #expect(types == ["concurrency.reserved", "session.created", "session.ended", "concurrency.released"])
            // The release of the session's slot is the session's too: it carries its epoch and next sessionSeq.
            let released = events["events"][3]
            #expect(released["sessionId"].string == sessionId && released["epoch"].int == 1, "\(released)")
            #expect(released["sessionSeq"].int == (events["events"][2]["sessionSeq"].int ?? 0) + 1, "\(released)")
            let cursors = events["events"].array.compactMap { $0["cursor"].int }
            #expect(cursors == cursors.sorted() && Set(cursors).count == cursors.count)
            let tail = try await api.get("/v1/events?after=\(cursors[1])&limit=1")
            #expect(tail["events"].array.count == 1 && tail["events"][0]["cursor"].int == cursors[2])
        }
    }

    @Test func stateSurvivesARestartOnTheSameFile() async throws {
        let server = TestServer()
        let sessionId = SessionIDBox()
        try await server.run { api in
            _ = try await api.post("/v1/projects", #"{"id":"p","capacity":3}"#)
            _ = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"a"}"#)
            let s = try await api.post("/v1/projects/p/sessions", #"{"userId":"a"}"#)
            await sessionId.set(s["sessionId"].string)
            _ = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"b"}"#)
        }
        let id = try #require(await sessionId.value)
        try await server.run { api in
            let count = try await api.get("/v1/projects/p/concurrency")
            #expect(count["reserved"].int == 1 && count["created"].int == 1 && count["idle"].int == 1)
            #expect(try await api.get("/v1/sessions/\(id)")["state"].string == "created")
            let reused = try await api.post("/v1/projects/p/concurrency/apply", #"{"userId":"b"}"#)
            #expect(reused["reused"].bool == true)
            let events = try await api.get("/v1/events")
            #expect(events["events"].array.count == 4)
        }
    }
}

actor SessionIDBox {
    var value: String?
    func set(_ v: String?) { value = v }
}
