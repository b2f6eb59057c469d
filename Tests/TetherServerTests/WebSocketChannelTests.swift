import Foundation
import NIOCore
import NIOWebSocket
import Testing
import TetherProtocol
import TetherServer
import TetherTestKit

/// What only the WebSocket transport has: the upgrade, close frames, ping frames, and moving a session
/// between WebSocket and TCP.
@Suite struct WebSocketChannelTests {
    @Test func onlyTheConnectPathUpgrades() async throws {
        try await PlaneHarness.run { h in
            await #expect(throws: WebSocketTestClient.NotUpgraded.self) {
                let client = try await WebSocketTestClient.connect(port: h.clientPort, path: "/v1/elsewhere")
                try? await client.channel.close()
            }
            // The query string is not part of the path.
            let client = try await WebSocketTestClient.connect(port: h.clientPort, path: "/v1/connect?sdk=test")
            try? await client.channel.close()
        }
    }

    /// A message in fragments (PROTOCOL.md: reassembled up to 64 KiB) is one message.
    @Test func fragmentedMessagesAreReassembled() async throws {
        try await PlaneHarness.run { h in
            try await h.project()
            let c = try await h.session("alice")
            let client = try await h.websocket()
            _ = try #require(try await client.hello(token: c.token))
            var ping = ByteBuffer(bytes: ClientMessage.ping(seq: 7, t: 70).json)
            let first = ping.readSlice(length: 5)!
            let second = ping.readSlice(length: 5)!
            try await client.send(frame: .text, first, fin: false)
            try await client.send(frame: .continuation, second, fin: false)
            try await client.send(frame: .continuation, ping, fin: true)
            let pong = await client.inbox.wait(for: "pong")
            #expect(pong?["seq"].int == 7 && pong?["t"].int == 70, "\(client.inbox.snapshot)")
        }
    }

    /// A close frame without `bye` is a lost connection (grace, cause `closed`), and the server answers it.
    @Test func aCloseFrameWithoutByeMeansGrace() async throws {
        try await PlaneHarness.run { h in
            try await h.project(intervalMs: 15_000, timeoutMs: 30_000)
            let c = try await h.session("alice")
            let client = try await h.websocket()
            _ = try #require(try await client.hello(token: c.token))
            try await client.sendClose(code: 1000)
            #expect(await client.inbox.waitClosed())
            #expect(client.inbox.closeCode == 1000, "the close was not echoed: \(client.inbox.snapshot)")
            let session = try await h.wait(c.sessionId, state: "grace", within: .seconds(3))
            #expect(session["lastCause"].string == "closed")
        }
    }

    /// The automatic pong of a client that sends nothing else keeps its session (a throttled background tab).
    @Test func pongFramesAloneKeepTheSessionAlive() async throws {
        try await PlaneHarness.run { h in
            // A 3 s timeout (a full run on 2 cores once stalled the in-process server past 1.5 s).
            try await h.project(intervalMs: 500, timeoutMs: 3_000)
            let c = try await h.session("alice")
            let client = try await h.websocket(answerPings: true)
            _ = try #require(try await client.hello(token: c.token))
            // Ten pings take longer than the timeout: only the pong frames bridge it.
            #expect(await eventually(within: .seconds(20)) { client.inbox.serverPings >= 10 })
            let session = try await h.get(c.sessionId)
            #expect(session["state"].string == "connected", "\(session["state"]) \(session["lastCause"])")
            #expect(!client.inbox.isClosed && client.inbox.messages("kick").isEmpty)
            #expect((session["stats"]["heartbeats"].int ?? 0) >= 6, "\(session["stats"])")
            #expect(session["stats"]["rttMs"]["p50"].doubleValue != nil)
            #expect(session["stats"]["jitterMs"].doubleValue != nil)
        }
    }

    /// A client's own ping frames count as heartbeats and are answered with pong frames.
    @Test func pingFramesAreHeartbeats() async throws {
        try await PlaneHarness.run { h in
            // The pings go on for twice the timeout (a session they did not keep alive would expire), with room for
            // a client task that a loaded machine runs late.
            try await h.project(intervalMs: 500, timeoutMs: 2_000)
            let c = try await h.session("alice")
            let client = try await h.websocket(answerPings: false)
            _ = try #require(try await client.hello(token: c.token))
            for _ in 0..<40 {
                try await client.send(frame: .ping, ByteBuffer(string: "hi"))
                try await Task.sleep(for: .milliseconds(100))
            }
            let session = try await h.get(c.sessionId)
            #expect(session["state"].string == "connected", "\(session["state"]) \(session["lastCause"])")
            #expect((session["stats"]["heartbeats"].int ?? 0) >= 24)
        }
    }

    /// At the shortest timeout a project may have (twice the interval), the server's pings must still come
    /// early enough for a client that only answers them.
    @Test func pongFramesAloneKeepTheSessionAliveAtTheShortestTimeout() async throws {
        // The server's clock moves 25 ms per look, never closer than 250 ms to the session's deadline as the server
        // shows it (`deadlineAt`: the last frame heard, the client's pongs included, plus the timeout). So the
        // session cannot expire because the test moved the clock while a pong was still on its way (loaded runs
        // did, with bounds counted from the pings the client got), and a server whose pings came later than
        // three quarters of the timeout would stall the clock short of its next ping: fewer than six pings.
        let time = ManualTime(1_800_000_000_000)
        try await PlaneHarness.run(time: time) { h in
            try await h.project(intervalMs: 500, timeoutMs: 1_000)
            let c = try await h.session("alice")
            let client = try await h.websocket(answerPings: true)
            _ = try #require(try await client.hello(token: c.token))
            var moved: Int64 = 0
            _ = await eventually(within: .seconds(30), every: .milliseconds(25)) {
                let deadline = (try? await h.get(c.sessionId))?["deadlineAt"].int.map(Int64.init)
                if let deadline, time.now() + 25 <= deadline - 250 {
                    time.advance(by: 25)
                    moved += 25
                }
                return client.inbox.serverPings >= 6 || client.inbox.isClosed
            }
            #expect(client.inbox.serverPings >= 6, "\(client.inbox.serverPings) pings in \(moved) ms")
            // Six pings at one per half interval of quiet: the clock went well past the timeout.
            #expect(moved > 1_000, "moved \(moved) ms")
            let session = try await h.get(c.sessionId)
            #expect(
                session["state"].string == "connected" && !client.inbox.isClosed,
                "\(session["state"]) \(session["lastCause"]) after \(client.inbox.serverPings) pings, kick \(client.inbox.messages("kick").first?.text ?? "none")"
            )
        }
    }

    @Test func aSessionMovesFromWebSocketToTCPAcrossAResume() async throws {
        try await PlaneHarness.run { h in
            try await h.project(graceMs: 10_000)
            let c = try await h.session("alice")
            let (ws, welcome) = try await h.connected(.websocket, c)
            #expect(try await h.get(c.sessionId)["transport"].string == "websocket")
            await ws.abort()
            try await h.wait(c.sessionId, state: "grace")

            let tcp = try await h.tcp()
            let resumeToken = try #require(welcome["resumeToken"].string)
            let again = try #require(try await tcp.resume(resumeToken))
            #expect(again["epoch"].int == 2 && again["concurrencyId"].string == c.concurrencyId)
            #expect(try await tcp.ping(seq: 1) != nil)
            let session = try await h.wait(c.sessionId, state: "connected")
            #expect(session["transport"].string == "tcp" && session["epoch"].int == 2)

            // And back, this time without closing first: the TCP connection is replaced.
            let back = try await h.websocket()
            let rotated = try #require(again["resumeToken"].string)
            #expect(try await back.resume(rotated)?["epoch"].int == 3)
            await expectKick(tcp, reason: "replaced", code: 4002)
            let moved = try await h.wait(c.sessionId, state: "connected")
            #expect(moved["transport"].string == "websocket" && moved["epoch"].int == 3)
        }
    }

    /// The one 10 s test: a connection that never says hello is closed with 4008 (both socket transports).
    @Test func noHelloWithinTenSecondsCloses4008() async throws {
        try await PlaneHarness.run { h in
            let ws = try await h.websocket()
            let tcp = try await h.tcp()
            #expect(await ws.inbox.waitClosed(within: .seconds(15)))
            #expect(ws.inbox.closeCode == 4008, "\(ws.inbox.snapshot)")
            #expect(await tcp.inbox.waitClosed(within: .seconds(5)))
            #expect(tcp.inbox.messages("kick").last?["reason"].string == "noHello", "\(tcp.inbox.snapshot)")
        }
    }
}
