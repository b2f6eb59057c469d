import Foundation
import NIOCore
import Testing
import TetherProtocol
import TetherServer
import TetherTestKit

/// What only the TCP transport has: frame types on the wire, server `ping` messages, half-closes.
@Suite struct TCPChannelTests {
    /// Every server message travels in a frame of its own type, and the JSON inside is the WebSocket's.
    @Test func framesCarryTheirTypes() async throws {
        try await PlaneHarness.run { h in
            // Server pings every 200 ms; a 30 s timeout, so that a stall of a loaded machine cannot expire this
            // client (it does not answer pings) before the kick this test reads.
            try await h.project(intervalMs: 200, timeoutMs: 30_000)
            let c = try await h.session("alice")
            // Not answering: an answer racing the kick below could change its reason (see the report).
            let (client, _) = try await h.connected(.tcp, c, answerPings: false)
            try await client.ping(seq: 1)
            #expect(await eventually { client.inbox.serverPings >= 1 })
            _ = try await h.api.delete("/v1/sessions/\(c.sessionId)")
            await expectKick(client, reason: "destroyed", code: 4003)
            let expected: [String: FrameType] = ["welcome": .welcome, "pong": .pong, "ping": .ping, "kick": .kick]
            for message in client.inbox.messages {
                let type = try #require(message.type, "not JSON: \(message.text)")
                #expect(message.frameType == expected[type]?.rawValue, "\(type) in frame \(message.frameType ?? 0)")
            }
            let ping = try #require(client.inbox.messages("ping").first)
            #expect(ping["seq"].int != nil && ping["t"].int != nil)
        }
    }

    /// A client that closes its sending side is gone: the session goes to grace at once.
    @Test func aHalfCloseIsAClose() async throws {
        try await PlaneHarness.run { h in
            try await h.project(intervalMs: 15_000, timeoutMs: 30_000)
            let c = try await h.session("alice")
            let client = try await h.tcp()
            _ = try #require(try await client.hello(token: c.token))
            await client.shutdownOutput()
            let session = try await h.wait(c.sessionId, state: "grace", within: .seconds(3))
            #expect(session["lastCause"].string == "closed")
            #expect(await client.inbox.waitClosed())
        }
    }

    /// Frames split across writes, and several frames in one write, are read alike.
    @Test func framesAreReassembledAndSplit() async throws {
        try await PlaneHarness.run { h in
            try await h.project()
            let c = try await h.session("alice")
            let client = try await h.tcp()
            var hello = TCPTestClient.frame(type: 1, ClientMessage.hello(.token(c.token)).json)
            while hello.readableBytes > 0 {
                let piece = hello.readSlice(length: min(7, hello.readableBytes))!
                try await client.send(raw: piece)
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(await client.inbox.waitWelcome() != nil, "\(client.inbox.snapshot)")
            var batch = ByteBuffer()
            for seq in 1...5 {
                var frame = TCPTestClient.frame(type: 3, ClientMessage.ping(seq: UInt64(seq), t: 9).json)
                batch.writeBuffer(&frame)
            }
            try await client.send(raw: batch)
            #expect(await client.inbox.wait(for: "pong", index: 4) != nil, "\(client.inbox.snapshot)")
            #expect(client.inbox.messages("pong").compactMap { $0["seq"].int } == [1, 2, 3, 4, 5])
        }
    }
}
