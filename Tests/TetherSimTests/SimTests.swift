import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// `tether sim` against a real `tether serve`: its JSON summary after short runs.
@Suite struct SimTests {
    /// Runs `tether sim ... --json` against `server`; the summary.
    func sim(_ server: SDKServer, _ arguments: [String]) async throws -> [String: Any] {
        let cli = CLI(url: server.url, apiKey: SDKServer.key)
        let result = try await cli.run(["sim", "--json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try result.json()
    }

    func int(_ summary: [String: Any], _ key: String) -> Int { summary[key] as? Int ?? -1 }

    @Test func mixedRunResumesKillsDetectsSilentClientsAndRaisesNoFalseDisconnect() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        let s = try await sim(
            server,
            [
                "--clients", "20", "--duration", "6", "--transport", "mix", "--kill", "20", "--silent", "15",
                "--suspend", "15", "--churn", "10",
            ])
        #expect(int(s, "clients") == 20)
        #expect(s["transports"] as? [String: Int] == ["ws": 7, "tcp": 7, "http": 6])
        #expect(int(s, "connectFailures") == 0)
        #expect(int(s, "errors") == 0, "\(s["notes"] ?? "")")

        // Every killed client came back within grace, on the same concurrency.
        #expect(int(s, "kills") == 4)
        #expect(int(s, "killsSameConcurrency") == int(s, "kills"))
        #expect(int(s, "killsOtherConcurrency") == 0)
        #expect(int(s, "killsNotBack") == 0)

        // Every silent client was detected by heartbeat timeout, no earlier than its deadline.
        #expect(int(s, "silent") == 3)
        #expect(int(s, "silentDetected") == int(s, "silent"))
        let lateness = try #require(s["detectionLatenessMs"] as? [String: Any])
        #expect(lateness["count"] as? Int == 3)
        #expect((lateness["min"] as? Double ?? -1) >= 0, "\(lateness)")
        #expect(lateness["p99"] is Double)

        #expect(int(s, "suspensions") == 3)
        #expect(int(s, "suspensionsResumed") == 3)
        #expect(int(s, "churnLeft") == 2)
        #expect(int(s, "churnJoined") == 2)
        #expect(int(s, "falseDisconnects") == 0, "\(s["notes"] ?? "")")
        #expect(int(s, "clientLosses") == 0, "\(s["notes"] ?? "")")
        #expect(int(s, "sessionsHeldAtEnd") == 20)
    }

    @Test func twoWorkerProcessesAddUp() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        let s = try await sim(
            server,
            ["--clients", "20", "--duration", "5", "--processes", "2", "--kill", "20", "--silent", "10"])
        #expect(int(s, "processes") == 2)
        #expect(int(s, "clients") == 20)
        #expect(int(s, "connected") == 20)
        // Each worker planned 2 kills and 1 silent client of its 10.
        #expect(int(s, "kills") == 4)
        #expect(int(s, "killsSameConcurrency") == 4)
        #expect(int(s, "silent") == 2)
        #expect(int(s, "silentDetected") == 2)
        #expect(int(s, "falseDisconnects") == 0, "\(s["notes"] ?? "")")
        #expect(int(s, "errors") == 0, "\(s["notes"] ?? "")")
        #expect(int(s, "sessionsHeldAtEnd") == 20)

        // The server saw both workers' users: 20 sessions, all ended by their bye.
        let ended = try await server.backend.sessions(project: "sim", state: "ended")
        #expect(ended.count == 20)
        #expect(ended.allSatisfy { $0.endReason == "left" })
    }

    /// Over TLS (`--ca-file`): WebSocket, TCP and HTTP heartbeats, resumes after kills and the event stream
    /// all go through `wss://`, `tls://` and `https://`.
    @Test func aRunOverTLSWithACAFile() async throws {
        let certificate = try await TestCertificate.make()
        let server = try await SDKServer.start(tls: certificate)
        defer { server.stop() }
        let s = try await sim(
            server,
            [
                "--clients", "12", "--duration", "4", "--transport", "mix", "--kill", "25", "--silent", "25",
                "--ca-file", certificate.certificatePath,
            ])
        #expect(s["transports"] as? [String: Int] == ["ws": 4, "tcp": 4, "http": 4])
        #expect(int(s, "connected") == 12)
        #expect(int(s, "connectFailures") == 0)
        #expect(int(s, "errors") == 0, "\(s["notes"] ?? "")")
        #expect(int(s, "kills") == 3)
        #expect(int(s, "killsSameConcurrency") == 3)
        #expect(int(s, "silentDetected") == int(s, "silent"))
        #expect(int(s, "falseDisconnects") == 0, "\(s["notes"] ?? "")")
        #expect(int(s, "sessionsHeldAtEnd") == 12)
    }

    /// Disturbed heartbeats (issue 18): 5 % never sent, each held up to 300 ms, and half the steady socket
    /// clients throttled to a heartbeat a minute against a 1.5 s timeout: the server's probes keep them all, and
    /// the silent ones are still detected.
    @Test func lossJitterAndThrottledTabsCauseNoFalseDisconnect() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        let s = try await sim(
            server,
            [
                "--clients", "16", "--duration", "5", "--transport", "ws", "--silent", "25",
                "--heartbeat-interval-ms", "500", "--heartbeat-timeout-ms", "1500", "--loss", "5", "--jitter-ms",
                "300", "--throttled", "50",
            ])
        #expect(int(s, "throttledClients") >= 4, "\(s)")
        #expect(int(s, "falseDisconnects") == 0, "\(s["notes"] ?? "")")
        #expect(int(s, "silent") == 4)
        #expect(int(s, "silentDetected") == 4)
        #expect(int(s, "errors") == 0, "\(s["notes"] ?? "")")
        #expect(int(s, "sessionsHeldAtEnd") == 16)
    }
}
