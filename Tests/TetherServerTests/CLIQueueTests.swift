import Foundation
import Testing
import TetherTestKit

/// `tether apply --queue` and `tether queue list|get|cancel`, run as a process against a real `tether serve`.
@Suite struct CLIQueueTests {
    @Test func applyQueuesAndTheQueueCommandsShowAndCancel() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        let cli = CLI(url: "http://127.0.0.1:\(server.apiPort)", apiKey: SDKServer.key)
        let created = try await cli.run(
            "projects", "create", "full", "--capacity", "0", "--queue", "on", "--queue-offer-ttl-ms", "20000",
            "--json")
        #expect(created.status == 0, "\(created.stderr)")
        #expect((try created.json()["queue"] as? [String: Any])?["offerTtlMs"] as? Int == 20_000)

        let first = try await cli.run("apply", "full", "alice", "--queue")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("position") && first.stdout.contains("queueToken"), "\(first.stdout)")
        let second = try await cli.run("apply", "full", "bob", "--queue", "--priority", "7", "--json").json()
        #expect(second["queued"] as? Bool == true && second["position"] as? Int == 1)
        let noQueue = try await cli.run("apply", "full", "carol", "--priority", "1")
        #expect(noQueue.status != 0 && noQueue.stderr.contains("--priority needs --queue"), "\(noQueue.stderr)")

        let listed = try await cli.run("queue", "list", "full")
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("POSITION  USER") == true, "\(listed.stdout)")
        #expect(
            lines.dropFirst().map { $0.split(separator: " ").prefix(2).joined(separator: " ") } == ["1 bob", "2 alice"])
        let alice = try await cli.run("queue", "get", "full", "alice", "--json").json()
        #expect(alice["position"] as? Int == 2 && alice["state"] as? String == "waiting")

        let cancelled = try await cli.run("queue", "cancel", "full", "bob", "--json").json()
        #expect(cancelled["state"] as? String == "left")
        let after = try await cli.run("queue", "list", "full", "--json").json()
        #expect(after["length"] as? Int == 1)
        let missing = try await cli.run("queue", "get", "full", "bob")
        #expect(missing.status == 1 && missing.stderr.contains("ResourceNotFound.Ticket"), "\(missing.stderr)")
    }
}
