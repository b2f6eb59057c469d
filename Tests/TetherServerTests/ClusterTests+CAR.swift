import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// A CAR call through a follower: forwarded to the owner with the client's `Host`, which its signature covers.
extension ClusterTests {
    @Test func aSignedCARCallThroughAFollowerReachesTheOwner() async throws {
        let cluster = try await Nodes(count: 2)
        defer { cluster.stop() }
        let owner = cluster.index(of: try #require(try await cluster.owner(from: 1)))
        let follower = 1 - owner
        let backend = TetherBackend(url: api(cluster, follower), apiKey: Self.key)
        _ = try await backend.createProject(id: "cap-a", policy: .init(capacity: 2))
        let pair = try await backend.send(.createKey(name: "car", car: true))
        let arguments = [
            "python3", CARTests.script, "raw", "127.0.0.1:\(cluster[follower].port)", try #require(pair.secretId),
            try #require(pair.secretKey), "ApplyConcurrent", #"{"UserId": "u1", "ProjectId": "cap-a"}"#,
        ]
        let run = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), arguments)
        #expect(run.output.contains(#""status": 200"#) && !run.output.contains("Error"), "\(run.output)")
        #expect(
            try await TetherBackend(url: api(cluster, owner), apiKey: Self.key).count(project: "cap-a").reserved == 1)
    }
}
