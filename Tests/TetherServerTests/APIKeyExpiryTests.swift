import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TetherCore
import TetherTestKit

@testable import TetherServer

/// An API key created with `expiresInMs` is refused from its `expiresAt` on (issue 16, item 7), on the server's injected clock:
/// every call; it is listed with its expiry; an expiry already past is a 400.
@Suite struct APIKeyExpiryTests {
    @Test func anExpiredKeyIsRefusedFromItsExpiryOn() async throws {
        let time = ManualTime(1_800_000_000_000)
        let app = try await TetherServer(configuration: TestServer().configuration(), time: time).makeApplication()
        try await app.test(.live) { client in
            let api = API(client: client)
            #expect(try await api.post("/v1/projects", #"{"id":"p","capacity":1}"#).status == .created)
            let at = time.now() + 60_000
            let created = try await api.post("/v1/keys", #"{"name":"ci","projects":["p"],"expiresInMs":60000}"#)
            #expect(created.status == .created && created["expiresAt"].int == Int(at), "\(created.text)")
            let key = try #require(created["key"].string)
            let keyId = try #require(created["keyId"].string)
            #expect(try await api.call(.get, "/v1/projects/p", key: key).status == .ok)
            let listed = try await api.get("/v1/keys")["keys"].array.first { $0["keyId"].string == keyId }
            #expect(listed?["expiresAt"].int == Int(at))

            time.advance(by: 59_999)
            #expect(try await api.call(.get, "/v1/projects/p", key: key).status == .ok, "a millisecond before")
            time.advance(by: 1)
            let refused = try await api.call(.get, "/v1/projects/p", key: key)
            #expect(refused.status == .unauthorized && refused.code == "AuthFailure", "\(refused.text)")
            #expect(try await api.call(.get, "/v1/events", key: key).status == .unauthorized)
            #expect(try await api.get("/v1/projects/p").status == .ok, "the admin key is not touched")

            // A lifetime of nothing, of less, or of more than 10 years is refused and makes nothing.
            for bad in ["0", "-1", "315360000001", "1.5", #""60000""#] {
                let reply = try await api.post("/v1/keys", #"{"name":"late","expiresInMs":\#(bad)}"#)
                #expect(reply.status == .badRequest && reply.text.contains("expiresInMs"), "\(bad): \(reply.text)")
            }
            #expect(try await api.get("/v1/keys")["keys"].array.count == 2)
        }
    }
}
