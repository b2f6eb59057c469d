import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// The Swift SDK against the real `tether serve` binary: heartbeats, states, suspension, leaving, destroy,
/// reconnects with the resume token.
@Suite struct SDKTests {
    @Test(arguments: TetherClient.Transport.allCases)
    func connectsHeartbeatsAndMeasuresRoundTrips(transport: TetherClient.Transport) async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        // A 30 s timeout: this test is about round trips, and with 2 s a loaded full run saw no 3 pongs in 10 s
        // (the client's heartbeat task, on the test process's cooperative pool, can be held up for seconds).
        try await server.project("p", timeoutMs: 30_000, graceMs: 10_000)
        let created = try await server.session("p", user: "u")
        let client = try TetherClient(session: created, transport: transport, configuration: .fast)
        let info = try await client.connect()
        #expect(info.sessionId == created.sessionId)
        #expect(info.concurrencyId == created.concurrencyId)
        #expect(info.epoch == created.epoch)
        #expect(info.heartbeatInterval == .milliseconds(200))
        #expect(info.heartbeatTimeout == .seconds(30))
        #expect(await eventually(within: .seconds(30)) { await client.stats.pongsReceived >= 3 })
        let stats = await client.stats
        #expect(stats.lastRTT != nil)
        #expect(stats.smoothedRTT != nil)
        #expect(stats.pingsSent >= stats.pongsReceived)
        let session = try await server.backend.session(created.sessionId)
        #expect(session.state == "connected")
        #expect(session.transport == transport.rawValue)
        #expect((session.stats?.heartbeats ?? 0) >= 1)
        await client.close()
    }

    /// The SDK decodes the server's bodies into the same shared types (TetherProtocol's `TetherAPI`), so a
    /// field the server writes is one the SDK reads: CreateSession's `parameters`, given as JSON text.
    @Test func aSessionsParametersComeBackThroughTheSDK() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        try await server.project("p", graceMs: 10_000)
        _ = try await server.backend.apply(project: "p", userId: "u")
        let created = try await server.backend.createSession(
            project: "p", userId: "u", runMode: "Run", parametersJSON: #"{"level":3,"tags":["a",null,true]}"#)
        let session = try await server.backend.session(created.sessionId)
        #expect(session.runMode == "Run")
        #expect(
            session.parameters
                == .object(["level": .number(3), "tags": .array([.string("a"), .null, .bool(true)])]))
        #expect(session.stats?.heartbeats == 0)
    }

    @Test func statesStreamInOrderAndCloseLeavesAndFreesTheSlot() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        try await server.project("p", capacity: 1, graceMs: 10_000)
        let created = try await server.session("p", user: "u")
        let client = try TetherClient(session: created, configuration: .fast)
        let log = StateLog(client)
        let info = try await client.connect()
        await client.close()
        #expect(await log.ended() == .left)
        #expect(log.all == [.connecting, .connected(info), .ended(.left)])
        // The server closes at once on bye; the broker's transition may land a moment later.
        #expect(
            try await eventually {
                let session = try await server.backend.session(created.sessionId)
                return session.state == "ended" && session.endReason == "left"
            })
        let count = try await server.backend.count(project: "p")
        #expect(count.idle == 1)
        // The slot is free: another user gets it.
        #expect(try await server.backend.apply(project: "p", userId: "v").reused == false)
    }

    @Test func suspendAndEndSuspension() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        try await server.project("p", graceMs: 10_000)
        let created = try await server.session("p", user: "u")
        let client = try TetherClient(session: created, transport: .tcp, configuration: .fast)
        let log = StateLog(client)
        try await client.connect()
        try await client.suspend(expected: .seconds(30), reason: .background)
        #expect(await client.state == .suspended)
        #expect(
            try await eventually { try await server.backend.session(created.sessionId).state == "suspended" },
            "the server never saw the suspension")
        let sentWhileSuspended = await client.stats.pingsSent
        try await Task.sleep(for: .milliseconds(600))
        #expect(await client.stats.pingsSent == sentWhileSuspended, "pings went out during the suspension")
        #expect(try await server.backend.session(created.sessionId).state == "suspended")
        try await client.endSuspension()
        #expect(try await eventually { try await server.backend.session(created.sessionId).state == "connected" })
        await client.close()
        // The log reads the state stream on its own task: wait for the last state to arrive.
        #expect(await eventually { log.all.count >= 5 })
        let states = log.all
        #expect(states.count == 5)
        #expect(states.dropFirst(2).first == .suspended)
    }

    /// This test and the next two count reconnects: their project times out after 30 s, so that a client whose
    /// heartbeat task waits on a loaded machine's cooperative pool is not lost and counted as a reconnect.
    @Test(arguments: TetherClient.Transport.allCases)
    func destroyEndsTheClientWithoutReconnecting(transport: TetherClient.Transport) async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        try await server.project("p", timeoutMs: 30_000, graceMs: 10_000)
        let created = try await server.session("p", user: "u")
        let losses = LossRecorder()
        let client = try TetherClient(session: created, transport: transport, configuration: .fast(losses))
        let log = StateLog(client)
        try await client.connect()
        try await server.backend.destroySession(created.sessionId)
        #expect(await log.ended(within: .seconds(30)) == .destroyed, "\(log.all), losses: \(losses.losses)")
        #expect(log.reconnects.isEmpty, "losses: \(losses.losses)")
        #expect(await client.state == .ended(.destroyed))
    }

    @Test(arguments: TetherClient.Transport.allCases)
    func aDroppedConnectionComesBackWithTheNextEpochAndTheSameConcurrency(transport: TetherClient.Transport)
        async throws
    {
        let server = try await SDKServer.start()
        defer { server.stop() }
        try await server.project("p", timeoutMs: 30_000, graceMs: 10_000)
        let created = try await server.session("p", user: "u")
        let losses = LossRecorder()
        let client = try TetherClient(session: created, transport: transport, configuration: .fast(losses))
        let log = StateLog(client)
        let first = try await client.connect()
        let firstToken = await client.resumeToken
        await client.dropConnection()
        // 30 s: a loaded fresh-clone CI run saw the reconnect under way but not welcomed within 10 s.
        let second = try #require(await log.connected(2, within: .seconds(30)), "no reconnect: \(log.all)")
        #expect(second.sessionId == first.sessionId)
        #expect(second.concurrencyId == first.concurrencyId)
        #expect(second.epoch == first.epoch + 1)
        #expect(await client.resumeToken != firstToken)
        #expect(log.reconnects.map(\.attempt) == [1], "losses: \(losses.losses)")
        #expect(
            try await eventually {
                let s = try await server.backend.session(created.sessionId)
                return s.state == "connected" && s.epoch == first.epoch + 1
            })
        await client.close()
    }

    @Test func aReplacedClientEndsAndDoesNotFightBack() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        try await server.project("p", timeoutMs: 30_000, graceMs: 10_000)
        let created = try await server.session("p", user: "u")
        let losses = LossRecorder()
        let first = try TetherClient(session: created, configuration: .fast(losses))
        let log = StateLog(first)
        try await first.connect()
        // The same user logs in elsewhere: CreateSession again starts a new epoch and kicks the first client.
        let again = try await server.session("p", user: "u")
        let second = try TetherClient(session: again, transport: .tcp, configuration: .fast)
        try await second.connect()
        #expect(await log.ended(within: .seconds(30)) == .replaced, "\(log.all), losses: \(losses.losses)")
        #expect(log.reconnects.isEmpty, "losses: \(losses.losses)")
        #expect(await second.state == .connected(try #require(await second.session)))
        await second.close()
    }
}
