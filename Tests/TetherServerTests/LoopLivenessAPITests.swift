import Testing
import TetherProtocol
import TetherServer
import TetherTestKit

/// With `--loop-liveness` (the default), a WebSocket or TCP session's heartbeats are recorded on its link, off the broker's
/// lock (issue 13, item 2): the API shows the recorded last heartbeat and deadline, a client that keeps
/// heartbeating outlives many timeouts (the broker's due deadline reads the record and moves), and a silent
/// client is still declared lost at its timeout; without it, the broker shows its own.
@Suite struct LoopLivenessAPITests {
    @Test(arguments: [Wire.websocket, .tcp])
    func theAPIShowsTheLoopsLastHeartbeatAndDeadline(_ wire: Wire) async throws {
        try await PlaneHarness.run(loopLiveness: true) { h in
            // A 30 s timeout: a stall of a loaded machine between two steps must not expire the session.
            try await h.project(intervalMs: 1_000, timeoutMs: 30_000)
            let c = try await h.session("alice")
            let (client, _) = try await h.connected(wire, c)
            _ = try await client.ping(seq: 1)
            let first = try await h.get(c.sessionId)
            let seen1 = try #require(first["lastHeartbeatAt"].int)
            #expect(first["deadlineAt"].int == seen1 + 30_000, "\(first)")
            // A later heartbeat moves both.
            var later = first
            let moved = await eventually(within: .seconds(10)) {
                _ = try? await client.ping(seq: 2)
                later = (try? await h.get(c.sessionId)) ?? later
                return (later["lastHeartbeatAt"].int ?? 0) > seen1
            }
            #expect(moved, "\(later)")
            #expect(later["deadlineAt"].int == (later["lastHeartbeatAt"].int ?? 0) + 30_000, "\(later)")
        }
    }

    @Test func aHeartbeatingClientOutlivesManyTimeouts() async throws {
        try await PlaneHarness.run(loopLiveness: true) { h in
            try await h.project(intervalMs: 500, timeoutMs: 2_500)
            let c = try await h.session("alice")
            let (client, _) = try await h.connected(.websocket, c)
            // Over three timeouts' worth of heartbeats, each far inside the timeout.
            for seq in 1...20 {
                #expect(try await client.ping(seq: UInt64(seq)) != nil)
                try await Task.sleep(for: .milliseconds(400))
            }
            let session = try await h.get(c.sessionId)
            #expect(session["state"].string == "connected", "\(session)")
            #expect(session["epoch"].int == 1)
        }
    }

    @Test func aSilentClientIsLostAtItsTimeout() async throws {
        try await PlaneHarness.run(loopLiveness: true) { h in
            try await h.project(intervalMs: 200, timeoutMs: 600)
            let c = try await h.session("alice")
            let (client, _) = try await h.connected(.websocket, c, answerPings: false)
            _ = client
            let grace = try await h.wait(c.sessionId, state: "grace")
            #expect(grace["lastCause"].string == "heartbeatTimeout", "\(grace)")
        }
    }

    @Test func withoutItTheBrokerWatchesAndShowsItsOwnDeadline() async throws {
        try await PlaneHarness.run(loopLiveness: false) { h in
            try await h.project(intervalMs: 1_000, timeoutMs: 30_000)  // 30 s: as above
            let c = try await h.session("alice")
            let (client, _) = try await h.connected(.websocket, c)
            _ = try await client.ping(seq: 1)
            let session = try await h.get(c.sessionId)
            let seen = try #require(session["lastHeartbeatAt"].int)
            #expect(session["deadlineAt"].int == seen + 30_000, "\(session)")
        }
    }
}
