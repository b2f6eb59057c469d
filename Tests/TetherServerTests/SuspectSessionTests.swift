import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// `suspect` in a session's detail and list (issue 18): a connected client quiet for more than an interval.
@Suite struct SuspectSessionTests {
    @Test func aQuietClientIsSuspectAndAHeartbeatingOneIsNot() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        // A 2 s interval: the healthy client (and its answers to server pings) is never 2 s quiet, even on a busy CI.
        try await server.project("p", intervalMs: 2_000, timeoutMs: 10_000, graceMs: 10_000)
        let healthy = try TetherClient(
            session: try await server.session("p", user: "healthy"), transport: .tcp, configuration: .fast)
        _ = try await healthy.connect()
        let quiet = try await server.session("p", user: "quiet")
        // Says hello, then nothing: not even the answers to the server's pings.
        let socket = try BlockingFrameSocket(port: server.tcpPort)
        #expect(try await offPool { socket.hello(.token(quiet.clientToken)) } != nil)
        #expect(
            try await eventually(within: .seconds(15)) {
                try await server.backend.session(quiet.sessionId).suspect == true
            })
        let list = try await server.backend.sessions(project: "p", state: "connected")
        #expect(list.first { $0.userId == "quiet" }?.suspect == true)
        // The healthy one is not suspect: read until it is seen so (a stall of a loaded machine can hold its
        // heartbeat task past an interval now and then; a rule that made every session suspect never passes).
        #expect(
            try await eventually(within: .seconds(15)) {
                let list = try await server.backend.sessions(project: "p", state: "connected")
                return list.first { $0.userId == "healthy" }?.suspect == false
                    && list.first { $0.userId == "quiet" }?.suspect == true
            })
        #expect(try await server.backend.session(quiet.sessionId).state == "connected", "suspect, not convicted")
        socket.close()
        await healthy.close()
    }
}
