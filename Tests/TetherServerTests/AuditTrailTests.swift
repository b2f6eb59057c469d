import Foundation
import HTTPTypes
import Testing
import TetherServer
import TetherTestKit

/// The audit trail (issue 16, item 6): every change made through the backend API is a record {at, keyId,
/// action, target, requestId, sourceIp}, read with `GET /v1/audit?after=`, never holding a secret; refused
/// calls leave none; only an admin key reads it.
@Suite struct AuditTrailTests {
    static let webhookSecret = "whsec-audit-secret-0123456789"

    @Test func everyChangeIsRecordedWithItsKeyRequestAndSourceAndNoSecret() async throws {
        try await TestServer().run { api in
            let adminKeyId = try #require(try await api.get("/v1/keys")["keys"].array.first?["keyId"].string)
            var expected: [(action: String, target: String, requestId: String)] = []
            func changed(_ reply: API.Reply, _ action: String, _ target: String) throws {
                #expect((200..<300).contains(reply.status.code), "\(action): \(reply.text)")
                expected.append((action, target, try #require(reply.headers[HTTPField.Name("X-Request-Id")!])))
            }
            try changed(
                try await api.post(
                    "/v1/projects",
                    #"{"id":"au","capacity":1,"queue":{"enabled":true},"webhook":{"url":"http://127.0.0.1:9/h","secret":"\#(Self.webhookSecret)"}}"#
                ), "project.create", "au")
            try changed(
                try await api.call(.patch, "/v1/projects/au", json: #"{"capacity":1,"reconnectGraceMs":1000}"#),
                "project.update", "au")
            let key = try await api.post("/v1/keys", #"{"name":"team","projects":["au"]}"#)
            let secretKey = try #require(key["key"].string)
            let keyId = try #require(key["keyId"].string)
            try changed(key, "key.create", keyId)
            // Calls that change nothing leave nothing: reads, refusals, a key without the right.
            _ = try await api.get("/v1/projects/au")
            #expect(try await api.delete("/v1/sessions/s-none").status == .notFound)
            #expect(try await api.call(.delete, "/v1/projects/au", key: secretKey).status == .forbidden)
            _ = try await api.post("/v1/projects/au/concurrency/apply", #"{"userId":"u1"}"#)
            let created = try await api.post("/v1/projects/au/sessions", #"{"userId":"u1"}"#)
            let sessionId = try #require(created["sessionId"].string)
            #expect(
                try await api.post("/v1/projects/au/concurrency/apply", #"{"userId":"u2","queue":true}"#).status.code
                    == 202)
            try changed(try await api.delete("/v1/projects/au/queue/u2"), "queue.cancel", "au/u2")
            try changed(try await api.delete("/v1/sessions/\(sessionId)"), "session.destroy", sessionId)
            _ = try await api.post("/v1/projects/au/concurrency/apply", #"{"userId":"u3"}"#)
            _ = try await api.post("/v1/projects/au/sessions", #"{"userId":"u3"}"#)
            try changed(try await api.delete("/v1/projects/au/users/u3/session"), "session.destroy", "au/u3")
            try changed(try await api.delete("/v1/keys/\(keyId)"), "key.revoke", keyId)
            try changed(try await api.delete("/v1/projects/au"), "project.delete", "au")

            let trail = try await api.get("/v1/audit?limit=1000")
            #expect(trail.status == .ok, "\(trail.text)")
            let records = trail["records"].array
            #expect(records.map { $0["action"].string ?? "" } == expected.map(\.action), "\(trail.text)")
            #expect(records.map { $0["target"].string ?? "" } == expected.map(\.target))
            #expect(records.map { $0["requestId"].string ?? "" } == expected.map(\.requestId))
            #expect(records.allSatisfy { $0["keyId"].string == adminKeyId && $0["sourceIp"].string == "127.0.0.1" })
            let ids = records.compactMap { $0["id"].int }
            #expect(ids == ids.sorted() && Set(ids).count == ids.count && ids.count == expected.count)
            #expect(records.allSatisfy { ($0["at"].int ?? 0) > 1_700_000_000_000 })
            #expect(trail["nextCursor"].int == ids.last)
            #expect(!trail.text.contains(Self.webhookSecret) && !trail.text.contains(secretKey))
            #expect(!trail.text.contains(TestServer.apiKey))

            // Paging: after the nth record, the rest; past the end, none and the same cursor.
            let page = try await api.get("/v1/audit?after=\(ids[2])&limit=2")
            #expect(page["records"].array.compactMap { $0["id"].int } == Array(ids[3...4]))
            #expect(page["nextCursor"].int == ids[4])
            let end = try await api.get("/v1/audit?after=\(ids.last ?? 0)")
            #expect(end["records"].array.isEmpty && end["nextCursor"].int == ids.last)
        }
    }

    @Test func onlyAnAdminKeyReadsTheTrailAndBadParametersAreRefused() async throws {
        try await TestServer().run { api in
            #expect(try await api.post("/v1/projects", #"{"id":"p","capacity":1}"#).status == .created)
            let key = try #require(try await api.post("/v1/keys", #"{"name":"t","projects":["p"]}"#)["key"].string)
            let forbidden = try await api.call(.get, "/v1/audit", key: key)
            #expect(forbidden.status == .forbidden && forbidden.code == "UnauthorizedOperation", "\(forbidden.text)")
            #expect(try await api.call(.get, "/v1/audit", key: nil).status == .unauthorized)
            for query in ["after=-1", "after=x", "after=1.0", "limit=0", "limit=1001", "limit=abc"] {
                let bad = try await api.get("/v1/audit?\(query)")
                #expect(bad.status == .badRequest, "\(query): \(bad.text)")
            }
        }
    }
}
