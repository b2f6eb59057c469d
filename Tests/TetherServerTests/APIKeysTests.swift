import Foundation
import HTTPTypes
import Hummingbird
import Testing
import TetherCore
import TetherServer
import TetherStore
import TetherTestKit

/// API keys (issue 16, item 1): admin and project keys created, listed without their secret, revoked at once;
/// a project key sees and changes only its projects, and what only an admin may do is refused to it.
@Suite struct APIKeysTests {
    /// Creates a key through the admin key; its JSON.
    static func createKey(_ api: API, _ body: String) async throws -> API.Reply {
        try await api.post("/v1/keys", body)
    }

    @Test func anAdminCreatesListsAndRevokesKeysAndARevokedKeyIsRefusedAtOnce() async throws {
        try await TestServer().run { api in
            let created = try await Self.createKey(api, #"{"name":"ci"}"#)
            #expect(created.status == .created)
            let key = try #require(created["key"].string)
            let keyId = try #require(created["keyId"].string)
            #expect(key.hasPrefix("tk_") && key.count == 46 && keyId.hasPrefix("ak-"))
            #expect(created["projects"].isNull && created["name"].string == "ci")
            // The new key works, and the list shows it with its last use, never a secret or a hash.
            #expect(try await api.call(.get, "/v1/projects", key: key).status == .ok)
            let list = try await api.get("/v1/keys")
            #expect(list.status == .ok)
            let keys = list["keys"].array
            #expect(keys.count == 2)  // the server's --api-key and this one
            let listed = try #require(keys.first { $0["keyId"].string == keyId })
            #expect(listed["lastUsedAt"].int != nil && listed["name"].string == "ci")
            #expect(!list.text.contains(key) && !list.text.contains(Secrets.hash(key)) && !list.text.contains("hash"))
            #expect(!list.text.contains(Secrets.hash(TestServer.apiKey)))
            // Revoked: refused by the very next call.
            let revoked = try await api.delete("/v1/keys/\(keyId)")
            #expect(revoked.status == .ok && revoked["keyId"].string == keyId)
            let refused = try await api.call(.get, "/v1/projects", key: key)
            #expect(refused.status == .unauthorized && refused.code == "AuthFailure")
            #expect(try await api.get("/v1/keys")["keys"].array.count == 1)
            let again = try await api.delete("/v1/keys/\(keyId)")
            #expect(again.status == .notFound && again.code == "ResourceNotFound.Key")
        }
    }

    @Test func aProjectKeySeesAndChangesOnlyItsProjects() async throws {
        try await TestServer().run { api in
            for id in ["a", "b"] {
                #expect(try await api.post("/v1/projects", #"{"id":"\#(id)","capacity":2}"#).status == .created)
            }
            _ = try await api.post("/v1/projects/b/concurrency/apply", #"{"userId":"ub"}"#)
            let other = try await api.post("/v1/projects/b/sessions", #"{"userId":"ub"}"#)
            let otherSession = try #require(other["sessionId"].string)
            let key = try #require(
                try await Self.createKey(api, #"{"name":"team-a","projects":["a"]}"#)["key"].string)
            func call(_ method: HTTPRequest.Method, _ uri: String, _ json: String? = nil) async throws -> API.Reply {
                try await api.call(method, uri, json: json, key: key)
            }
            // Its own project: read, apply, create a session, change the policy.
            #expect(try await call(.get, "/v1/projects")["projects"].array.map { $0["id"].string } == ["a"])
            #expect(try await call(.get, "/v1/projects/a").status == .ok)
            #expect(try await call(.post, "/v1/projects/a/concurrency/apply", #"{"userId":"ua"}"#).status == .ok)
            let mine = try await call(.post, "/v1/projects/a/sessions", #"{"userId":"ua"}"#)
            #expect(mine.status == .created)
            #expect(try await call(.patch, "/v1/projects/a", #"{"capacity":3}"#)["capacity"].int == 3)
            #expect(try await call(.get, "/v1/sessions/\(mine["sessionId"].string ?? "")").status == .ok)
            // Another project does not exist for it, whatever the route, and nothing there changes.
            let hidden: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/projects/b", nil), (.patch, "/v1/projects/b", #"{"capacity":9}"#),
                (.delete, "/v1/projects/b", nil), (.get, "/v1/projects/b/concurrency", nil),
                (.post, "/v1/projects/b/concurrency/apply", #"{"userId":"x"}"#),
                (.post, "/v1/projects/b/sessions", #"{"userId":"ub"}"#), (.get, "/v1/projects/b/sessions", nil),
                (.delete, "/v1/projects/b/users/ub/session", nil), (.get, "/v1/projects/b/queue", nil),
                (.get, "/v1/projects/b/queue/ub", nil), (.delete, "/v1/projects/b/queue/ub", nil),
                (.get, "/v1/projects/b/webhook", nil), (.get, "/v1/events?projectId=b", nil),
            ]
            for (method, uri, json) in hidden {
                let r = try await call(method, uri, json)
                #expect(r.status == .notFound && r.code == "ResourceNotFound.Project", "\(method) \(uri)")
            }
            for (method, uri) in [
                (HTTPRequest.Method.get, "/v1/sessions/\(otherSession)"), (.delete, "/v1/sessions/\(otherSession)"),
            ] {
                let r = try await call(method, uri)
                #expect(r.status == .notFound && r.code == "ResourceNotFound.SessionNotFound", "\(method) \(uri)")
            }
            let b = try await api.get("/v1/projects/b/concurrency")
            #expect(b["total"].int == 2 && b["running"].int == 1 && b["reserved"].int == 0)
            #expect(try await api.get("/v1/sessions/\(otherSession)")["state"].string == "created")
            // What only an admin does is 403, and changes nothing either.
            let forbidden: [(HTTPRequest.Method, String, String?)] = [
                (.post, "/v1/projects", #"{"id":"c"}"#), (.delete, "/v1/projects/a", nil),
                (.get, "/v1/keys", nil), (.post, "/v1/keys", #"{"name":"x"}"#),
                (.delete, "/v1/keys/ak-0000000000000000", nil),
            ]
            for (method, uri, json) in forbidden {
                let r = try await call(method, uri, json)
                #expect(r.status == .forbidden && r.code == "UnauthorizedOperation", "\(method) \(uri)")
            }
            #expect(try await api.get("/v1/projects")["projects"].array.count == 2)
            #expect(try await api.get("/v1/keys")["keys"].array.count == 2)
            // The event log: its projects' events only, and a cursor that moves past the others.
            let all = try await api.get("/v1/events?limit=1000")
            let page = try await call(.get, "/v1/events?limit=1000")
            let events = page["events"].array
            #expect(!events.isEmpty && events.allSatisfy { $0["projectId"].string == "a" })
            #expect(all["events"].array.contains { $0["projectId"].string == "b" })
            #expect(page["nextCursor"].int == all["nextCursor"].int)
            #expect(try await call(.get, "/v1/events?projectId=a")["events"].array.count == events.count)
        }
    }

    @Test func badKeyRequestsAreTypedErrorsThatChangeNothing() async throws {
        try await TestServer().run { api in
            #expect(try await api.post("/v1/projects", #"{"id":"a"}"#).status == .created)
            let cases: [(String, HTTPResponse.Status, String)] = [
                (#"{}"#, .badRequest, "InvalidParameter"),
                (#"{"name":""}"#, .badRequest, "InvalidParameterValue"),
                (#"{"name":null}"#, .badRequest, "InvalidParameter"),
                (#"{"name":"x","projects":[]}"#, .badRequest, "InvalidParameterValue"),
                (#"{"name":"x","projects":null}"#, .badRequest, "InvalidParameter"),
                (#"{"name":"x","projects":["a","a"]}"#, .badRequest, "InvalidParameterValue"),
                (#"{"name":"x","projects":"a"}"#, .badRequest, "InvalidParameter"),
                (#"{"name":"x","projects":["nope"]}"#, .notFound, "ResourceNotFound.Project"),
                (#"{"name":"x","name":"y"}"#, .badRequest, "InvalidParameter"),
            ]
            for (body, status, code) in cases {
                let r = try await api.post("/v1/keys", body)
                #expect(r.status == status && r.code?.hasPrefix(code) == true, "\(body): \(r.status) \(r.text)")
            }
            #expect(try await api.get("/v1/keys")["keys"].array.count == 1)
            // The last admin key cannot be revoked; a key is never taken from the URL.
            let only = try #require(try await api.get("/v1/keys")["keys"].array.first?["keyId"].string)
            let last = try await api.delete("/v1/keys/\(only)")
            #expect(last.status == .conflict && last.code == "FailedOperation.LastAdminKey")
            #expect(try await api.get("/v1/projects").status == .ok)
            for uri in [
                "/v1/projects?apiKey=\(TestServer.apiKey)", "/v1/projects?key=\(TestServer.apiKey)",
                "/v1/projects?access_token=\(TestServer.apiKey)",
            ] {
                #expect(try await api.call(.get, uri, key: nil).status == .unauthorized, "\(uri)")
            }
            for header in [
                "Bearer", "Bearer ", "bearer \(TestServer.apiKey)", "Basic \(TestServer.apiKey)",
                "Bearer  \(TestServer.apiKey)",
            ] {
                let r = try await api.call(.get, "/v1/projects", key: nil, headers: [.authorization: header])
                #expect(r.status == .unauthorized, "\(header)")
            }
        }
    }

    @Test func keysAndRevocationsOutliveARestartAndOlderHashesBecomeKeys() async throws {
        let server = TestServer()
        // A data file as an older version left it: bare hashes in `apiKeyHashes`.
        let store = try SQLiteStore(path: server.dataPath)
        try await store.migrate()
        try await store.setSetting("apiKeyHashes", #"["\#(Secrets.hash("legacy-key-0123456789"))"]"#)
        try await store.close()
        let kept = SessionIDBox()
        let revoked = SessionIDBox()
        try await server.run { api in
            #expect(try await api.call(.get, "/v1/projects", key: "legacy-key-0123456789").status == .ok)
            await kept.set(try await api.post("/v1/keys", #"{"name":"kept"}"#)["key"].string)
            let gone = try await api.post("/v1/keys", #"{"name":"gone"}"#)
            await revoked.set(gone["key"].string)
            #expect(try await api.delete("/v1/keys/\(gone["keyId"].string ?? "")").status == .ok)
            let names = try await api.get("/v1/keys")["keys"].array.compactMap { $0["name"].string }
            #expect(names == ["initial", "--api-key", "kept"])
        }
        let keptKey = try #require(await kept.value)
        let revokedKey = try #require(await revoked.value)
        try await server.run { api in
            #expect(try await api.call(.get, "/v1/projects", key: keptKey).status == .ok)
            #expect(try await api.call(.get, "/v1/projects", key: "legacy-key-0123456789").status == .ok)
            #expect(try await api.call(.get, "/v1/projects", key: revokedKey).status == .unauthorized)
            // The last use was saved at shutdown.
            let listed = try await api.get("/v1/keys")["keys"].array.first { $0["name"].string == "kept" }
            #expect(listed?["lastUsedAt"].int != nil)
        }
    }
}
