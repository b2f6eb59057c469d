import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// A cluster whose nodes serve TLS (one certificate for all, as `--tls-cert` on each): a follower forwards
/// calls to the owner over HTTPS, trusting its own certificate; `GET /v1/nodes` names `https://` and the TLS
/// `connect` URLs; a client sent to the follower's `wss://`/`tls://` port follows `moved` to the owner.
extension ClusterTests {
    @Test func aClusterOverTLSForwardsOverHTTPSAndRedirectsOverTLS() async throws {
        let certificate = try await TestCertificate.make()
        let url = try await TestPostgres.createDatabase()
        var nodes: [ServeProcess] = []
        defer {
            for node in nodes { node.stop() }
            Task { await TestPostgres.dropDatabase(url) }
        }
        for i in 0..<2 {
            nodes.append(
                try await ServeProcess.start(
                    dataPath: url, apiKey: Self.key, tcpPort: ServeProcess.freePort(),
                    apiPort: ServeProcess.freePort(), clientPort: ServeProcess.freePort(),
                    extraArguments: ["--node-id", "n\(i)", "--node-timeout-ms", "\(Self.nodeTimeoutMs)"]
                        + certificate.serveArguments))
        }
        let trust = try certificate.trust()
        let backends = nodes.map {
            TetherBackend(url: URL(string: "https://127.0.0.1:\($0.port)")!, apiKey: Self.key, tls: trust)
        }
        var list: [TetherBackend.Node] = []
        #expect(
            try await eventually(within: .seconds(15), every: .milliseconds(100)) {
                list = try await backends[1].nodes()
                return list.count == 2 && list.filter { $0.owner && $0.state == "alive" }.count == 1
            })
        let owner = try #require(list.firstIndex { $0.owner })
        let follower = 1 - owner
        for (i, node) in list.enumerated() {
            #expect(node.publicUrl == "https://127.0.0.1:\(nodes[i].port)", "\(node)")
            #expect(node.connect.websocket.hasPrefix("wss://127.0.0.1:"), "\(node)")
            #expect(node.connect.tcp?.hasPrefix("tls://127.0.0.1:") == true, "\(node)")
            #expect(node.connect.http.hasPrefix("https://127.0.0.1:"), "\(node)")
        }
        // Through the follower: forwarded to the owner over HTTPS.
        let api = backends[follower]
        _ = try await api.createProject(id: "p", policy: .init(capacity: 4))
        #expect(try await backends[owner].projects().map(\.id) == ["p"])
        var configuration = Self.clientConfiguration
        configuration.tls = trust
        for (user, transport) in [("w", TetherClient.Transport.websocket), ("t", .tcp)] {
            var created = try await session(api, user)
            #expect(created.connect == list[owner].connect)
            created.connect = list[follower].connect  // sent to the wrong node: it answers `moved`
            let client = try TetherClient(session: created, transport: transport, configuration: configuration)
            let info = try await client.connect()
            #expect(info.concurrencyId == created.concurrencyId, "\(transport)")
            let ownerURL =
                transport == .websocket ? list[owner].connect.websocket : try #require(list[owner].connect.tcp)
            #expect(await client.endpoint == TetherEndpoint(url: ownerURL), "\(transport) ends up on the owner")
            #expect(try await api.session(created.sessionId).state == "connected")
            await client.close()
        }
    }
}
