import Foundation
import HTTPTypes
import NIOCore
import Testing
import TetherProtocol
import TetherTestKit

/// Rotating the token signing keys through the API (issue 16, item 3): no session is broken by a rotation;
/// tokens of a key retired at once are refused with `badToken` while connected clients and resume tokens carry
/// on; admin keys only; audited.
@Suite struct SecretRotationTests {
    @Test func aRotationBreaksNoSessionAndARetiredKeysTokensAreRefused() async throws {
        try await PlaneHarness.run { h in
            // A 60 s heartbeat timeout: Alice's client is quiet between its steps, and a loaded fresh-clone CI run
            // saw one of its sends fail with "I/O on closed channel" (10 s, the harness's default, had passed).
            try await h.project(timeoutMs: 60_000)
            let listed = try await h.api.get("/v1/secrets")
            #expect(listed.status == .ok && listed["keys"].array.count == 1, "\(listed.text)")
            let firstKid = try #require(listed["keys"].array.first?["kid"].string)
            #expect(!listed.text.contains("secret"), "never a secret: \(listed.text)")

            // Alice connects before the rotation; Bob only has his token.
            let alice = try await h.session("alice")
            let aliceClient = try await h.websocket()
            let welcome = try #require(try await aliceClient.hello(token: alice.token))
            let bob = try await h.session("bob")

            // A rotation with the default: the first key verifies for the longest token life.
            let rotated = try await h.api.call(.post, "/v1/secrets/rotate", json: "{}")
            #expect(rotated.status == .ok, "\(rotated.text)")
            let keys = rotated["keys"].array
            #expect(keys.count == 2 && keys[0]["kid"].string == firstKid && keys[0]["retiresAt"].int != nil)
            #expect(keys[1]["signing"].bool == true && keys[1]["retiresAt"].isNull)
            let secondKid = try #require(keys[1]["kid"].string)
            let bobClient = try await h.websocket()
            #expect(try await bobClient.hello(token: bob.token) != nil, "a token of the first key still connects")
            let carol = try await h.session("carol")
            #expect(carol.token.split(separator: ".")[1] == Substring(secondKid), "new tokens carry the new key")

            // An emergency rotation (a leaked secret): the second key's tokens are refused at once…
            let urgent = try await h.api.call(.post, "/v1/secrets/rotate", json: #"{"retireOldAfterMs":0}"#)
            #expect(urgent.status == .ok, "\(urgent.text)")
            let carolClient = try await h.websocket()
            try await carolClient.send(.hello(.token(carol.token)))
            await expectKick(carolClient, reason: "badToken", code: 4001)
            #expect(try await h.get(carol.sessionId)["state"].string == "created", "the refusal changed nothing")
            // …while connected clients carry on and a resume token (not signed by these keys) still resumes.
            #expect(try await aliceClient.ping(seq: 1) != nil)
            #expect(try await bobClient.ping(seq: 1) != nil)
            let again = try await h.websocket()
            #expect(try await again.resume(try #require(welcome["resumeToken"].string)) != nil)
            // A new CreateSession for Carol gives a token of the newest key, which connects.
            let carolAgain = try await h.session("carol")
            let carolNew = try await h.websocket()
            #expect(try await carolNew.hello(token: carolAgain.token) != nil)

            let audit = try await h.api.get("/v1/audit")
            let rotations = audit["records"].array.filter { $0["action"].string == "secrets.rotate" }
            #expect(rotations.count == 2, "\(audit.text)")
        }
    }

    @Test func onlyAnAdminRotatesWithinTheLongestTokenLife() async throws {
        try await TestServer().run { api in
            #expect(try await api.post("/v1/projects", #"{"id":"p","capacity":1}"#).status == .created)
            let key = try #require(try await api.post("/v1/keys", #"{"name":"t","projects":["p"]}"#)["key"].string)
            #expect(try await api.call(.post, "/v1/secrets/rotate", json: "{}", key: key).status == .forbidden)
            #expect(try await api.call(.get, "/v1/secrets", key: key).status == .forbidden)
            for body in [#"{"retireOldAfterMs":-1}"#, #"{"retireOldAfterMs":604800001}"#, #"{"retireOldAfterMs":"1"}"#]
            {
                let bad = try await api.call(.post, "/v1/secrets/rotate", json: body)
                #expect(bad.status == .badRequest, "\(body): \(bad.text)")
            }
            #expect(try await api.get("/v1/secrets")["keys"].array.count == 1, "a refused rotation changes nothing")
            // No body at all takes the defaults.
            let bare = try await api.call(.post, "/v1/secrets/rotate")
            #expect(bare.status == .ok && bare["keys"].array.count == 2, "\(bare.text)")
        }
    }
}
