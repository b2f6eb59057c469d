import Foundation
import Testing
import TetherTestKit

/// API keys on several nodes (issue 16, item 1): a key made through one node works on every node, and one
/// revoked through any node is refused by every node at once, on the routes a follower answers itself too.
extension ClusterTests {
    @Test func aKeyRevokedThroughOneNodeIsRefusedByEveryNodeAtOnce() async throws {
        let cluster = try await Nodes(count: 2)
        defer { cluster.stop() }
        let owner = try #require(try await cluster.owner(from: 1))
        let follower = owner == "n0" ? 1 : 0
        #expect(try await cluster.createProject(through: follower, capacity: 2))
        let (status, body) = try await cluster[follower].call(
            "POST", "/v1/keys", #"{"name":"team","projects":["p"]}"#, key: Self.key)
        #expect(status == 201)
        let created = Self.json(body)
        let key = try #require(created["key"] as? String)
        let keyId = try #require(created["keyId"] as? String)
        for i in 0..<2 {
            for path in ["/v1/projects/p/concurrency", "/v1/events?projectId=p", "/v1/nodes"] {
                #expect(try await cluster[i].call("GET", path, key: key).0 == 200, "node \(i) \(path)")
            }
            // A project key is no admin key on any node.
            #expect(try await cluster[i].call("GET", "/v1/keys", key: key).0 == 403, "node \(i)")
        }
        #expect(try await cluster[follower].call("DELETE", "/v1/keys/\(keyId)", key: Self.key).0 == 200)
        for i in 0..<2 {
            for path in ["/v1/projects/p/concurrency", "/v1/events?projectId=p", "/v1/nodes"] {
                #expect(try await cluster[i].call("GET", path, key: key).0 == 401, "node \(i) \(path)")
            }
        }
    }
}
