import Foundation
import Testing
import TetherProtocol
import TetherTestKit

/// The server ends a connection without a reset: its last frame, then a FIN, and it keeps reading (and
/// dropping) what the client still sends until the client closes or a second passes. A close with unread input
/// is a TCP reset, and a reset makes the client's kernel drop what it had received but not read yet: the kick
/// with its reason (or a shutdown's `retryAfterMs`) would be lost to a client that was busy at that moment.
@Suite struct LingeringCloseTests {
    @Test func aFloodingClientThatReadsLateStillGetsItsKick() async throws {
        try await PlaneHarness.run { h in
            // A 30 s timeout: the session must end by the flood (cause `error`), never by a stall of a loaded
            // machine expiring it first.
            try await h.project(intervalMs: 200, timeoutMs: 30_000)
            let c = try await h.session("mallory")
            let socket = try BlockingFrameSocket(port: h.tcpPort)
            defer { socket.close() }
            #expect(try await offPool { socket.hello(.token(c.token)) } != nil)
            // Far over the rate limit, without reading a single pong.
            for seq in 1...1_000 { socket.send(.ping(seq: UInt64(seq), t: 0)) }
            // Read nothing until the server has let the connection go (the session is in grace).
            let session = try await h.wait(c.sessionId, state: "grace")
            #expect(session["lastCause"].string == "error")
            // The reads block their thread: off the cooperative pool.
            let (kick, pongs, end) = try await offPool {
                var kick: (reason: String, retryAfterMs: Int64?)?
                var pongs = 0
                while let message = socket.receive() {
                    if case .kick(let reason, let retryAfterMs, _) = message {
                        kick = (reason, retryAfterMs)
                        break
                    }
                    if case .pong = message { pongs += 1 }
                }
                return (kick?.reason, pongs, socket.receive())
            }
            #expect(kick == "rateLimited", "pongs read before: \(pongs)")
            #expect(end == nil)  // then the end of the stream
        }
    }
}
