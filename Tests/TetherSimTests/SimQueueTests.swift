import Foundation
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

/// `tether sim --queue` against a real `tether serve` (issue 15, item 4): a full pool with churn, every queued
/// user waiting live and taking its offer, and the report of how far the first estimate was from the wait.
@Suite struct SimQueueTests {
    @Test func aQueuedPoolWithChurnReportsTheEstimatesError() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        let cli = CLI(url: "http://127.0.0.1:\(server.apiPort)", apiKey: SDKServer.key)
        let result = try await cli.run([
            "sim", "--json", "--queue", "--clients", "12", "--capacity", "3", "--duration", "8", "--session-ms", "600",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.json()
        let queued = report["queued"] as? Int ?? -1
        #expect(queued > 0, "a pool of 3 for 12 clients queues")
        #expect(report["offersTaken"] as? Int == queued, "every queued user got its offer and took it")
        #expect(report["failures"] as? Int == 0, "\(report["notes"] ?? "")")
        #expect((report["sessions"] as? Int ?? 0) >= queued)
        #expect(report["etaErrorMedian"] is Double && report["etaErrorP90"] is Double)
        #expect((report["waitMedianMs"] as? Double ?? 0) > 0)
        // The pool is left as the run leaves it: no ticket waits once every client stopped.
        let queue = try await server.backend.queue(project: "simq")
        #expect(queue.length == 0, "\(queue.tickets.map(\.userId))")
    }
}
