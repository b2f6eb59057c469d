import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// The SDK across server restarts (SIGTERM and kill -9 on the same data file and ports), `retryAfterMs`, and
/// the end of the grace window.
@Suite(.serialized) struct SDKRestartTests {
    @Test(arguments: TetherClient.Transport.allCases)
    func aGracefulRestartIsResumedAfterRetryAfter(transport: TetherClient.Transport) async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        // A heartbeat timeout far above the stop's duration: with 2 s, a client on a machine loaded by the whole
        // suite could give up on a silent connection itself (no kick, so no retryAfterMs) while the server was
        // still stopping (CI, twice, on TCP: a first delay of 1 and 35 ms).
        try await server.project("p", intervalMs: 1_000, timeoutMs: 10_000, graceMs: 20_000)
        let created = try await server.session("p", user: "u")
        let client = try TetherClient(session: created, transport: transport, configuration: .fast)
        let log = StateLog(client)
        let first = try await client.connect()
        #expect(await server.process.terminate() == 0)
        // Kicked `shutdown` with retryAfterMs (1 s by default): the first delay honours it.
        let reconnecting = await log.wait { if case .reconnecting = $0 { true } else { false } }
        let delay = try #require(log.reconnects.first?.delay, "no reconnecting state: \(log.all)")
        #expect(reconnecting != nil)
        #expect(delay >= .seconds(1), "reconnecting before retryAfterMs: \(delay); \(log.all)")
        try await server.restart()
        let second = try #require(await log.connected(2, within: .seconds(20)), "no reconnect: \(log.all)")
        #expect(second.sessionId == first.sessionId)
        #expect(second.concurrencyId == first.concurrencyId)
        #expect(second.epoch == first.epoch + 1)
        let session = try await server.backend.session(created.sessionId)
        #expect(session.state == "connected")
        await client.close()
        #expect(await log.ended() == .left)
    }

    @Test(arguments: TetherClient.Transport.allCases)
    func aCrashAndRestartIsResumedWithTheResumeToken(transport: TetherClient.Transport) async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        try await server.project("p", graceMs: 20_000)
        let created = try await server.session("p", user: "u")
        let client = try TetherClient(session: created, transport: transport, configuration: .fast)
        let log = StateLog(client)
        let first = try await client.connect()
        await server.process.kill9()
        // Attempts fail while the server is down (connection refused), then it comes back.
        #expect(await eventually(within: .seconds(10)) { log.reconnects.count >= 2 }, "\(log.all)")
        try await server.restart()
        let second = try #require(await log.connected(2, within: .seconds(20)), "no reconnect: \(log.all)")
        #expect(second.sessionId == first.sessionId)
        #expect(second.concurrencyId == first.concurrencyId)
        #expect(second.epoch == first.epoch + 1)
        #expect(try await server.backend.session(created.sessionId).state == "connected")
        await client.close()
    }

    @Test func afterTheGraceWindowTheClientEnds() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        try await server.project("p", graceMs: 1_000)
        let created = try await server.session("p", user: "u")
        let client = try TetherClient(session: created, configuration: .fast)
        let log = StateLog(client)
        try await client.connect()
        await server.process.kill9()
        #expect(await log.ended(within: .seconds(15)) == .graceExpired)
        #expect(!log.reconnects.isEmpty)
        // Nothing got back in: a single welcome in the whole life of the client.
        #expect(log.all.filter { if case .connected = $0 { true } else { false } }.count == 1)
    }

    @Test func aResumeAfterTheSessionEndedIsRefusedAndEndsTheClient() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        try await server.project("p", graceMs: 30_000)
        let created = try await server.session("p", user: "u")
        var configuration = TetherClientConfiguration.fast
        // Waits long enough before reconnecting for the test to end the session meanwhile.
        configuration.random = { 1 }
        configuration.backoff = Backoff(base: .seconds(2), cap: .seconds(2))
        let client = try TetherClient(session: created, configuration: configuration)
        let log = StateLog(client)
        try await client.connect()
        await client.dropConnection()
        _ = await log.wait { if case .reconnecting = $0 { true } else { false } }
        #expect(
            try await eventually { try await server.backend.session(created.sessionId).state == "grace" },
            "the server never saw the loss")
        try await server.backend.destroySession(created.sessionId)
        let reason = await log.ended()
        #expect(reason == .expired || reason == .badToken, "\(String(describing: reason))")
    }
}

/// The client's own watchdog: a server that stops answering (SIGSTOP) is given up after the heartbeat
/// timeout, and the session is resumed once it answers again (SIGCONT).
@Suite(.serialized) struct SDKWatchdogTests {
    @Test func aFrozenServerIsDetectedByTheClientsOwnTimeout() async throws {
        let server = try await SDKServer.start()
        defer {
            kill(server.process.process.processIdentifier, SIGCONT)
            server.stop()
        }
        try await server.project("p", graceMs: 20_000)
        let created = try await server.session("p", user: "u")
        let client = try TetherClient(session: created, configuration: .fast)
        let log = StateLog(client)
        let first = try await client.connect()
        kill(server.process.process.processIdentifier, SIGSTOP)
        let reconnecting = await log.wait(within: .seconds(15)) { if case .reconnecting = $0 { true } else { false } }
        #expect(reconnecting != nil, "the client never noticed: \(log.all)")
        kill(server.process.process.processIdentifier, SIGCONT)
        let second = try #require(await log.connected(2, within: .seconds(20)), "no reconnect: \(log.all)")
        #expect(second.concurrencyId == first.concurrencyId)
        #expect(second.epoch > first.epoch)
        await client.close()
    }
}
