import Foundation
import HTTPTypes
import Testing
import TetherProtocol

/// `GET /metrics`: Prometheus text with the pool gauges, heartbeats per transport, RTT, expiry lateness,
/// API request durations by route and status, and store commits. The registry is per process, so each test
/// asserts on its own project's series or on counters growing.
@Suite struct MetricsTests {
    /// The value of the first sample whose line starts with `series` (name and labels as printed).
    static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func metricsReportPoolsHeartbeatsLatenessRequestsAndCommits() async throws {
        try await PlaneHarness.run { h in
            _ = try await h.api.post(
                "/v1/projects",
                #"{"id":"metrics-p","capacity":4,"heartbeat":{"intervalMs":200,"timeoutMs":1000},"reservationTtlMs":1000}"#
            )
            let before = try await h.api.call(.get, "/metrics", key: nil)
            let heartbeatsBefore =
                Self.sample(before.text, #"tether_heartbeats_received_total{transport="websocket"}"#) ?? 0
            let c = try await h.session("alice", project: "metrics-p")
            let client = try await h.websocket(answerPings: true)
            _ = try #require(try await client.hello(token: c.token))
            for seq in 1...5 { _ = try await client.ping(seq: UInt64(seq)) }
            // A reservation left to expire: a deadline whose lateness is recorded.
            _ = try await h.api.post("/v1/projects/metrics-p/concurrency/apply", #"{"userId":"bob"}"#)
            let expired = try await eventually(within: .seconds(5)) {
                let count = try await h.api.get("/v1/projects/metrics-p/concurrency")
                return count["reserved"].int == 0
            }
            #expect(expired)

            let reply = try await h.api.call(.get, "/metrics", key: nil)
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = reply.text
            #expect(Self.sample(text, #"tether_sessions{project="metrics-p",state="connected"}"#) == 1)
            #expect(Self.sample(text, #"tether_slots{project="metrics-p",state="idle"}"#) == 3)
            #expect(Self.sample(text, #"tether_slots{project="metrics-p",state="total"}"#) == 4)
            let heartbeats = try #require(
                Self.sample(text, #"tether_heartbeats_received_total{transport="websocket"}"#))
            #expect(heartbeats >= heartbeatsBefore + 6)  // hello + 5 pings
            #expect((Self.sample(text, #"tether_detection_lateness_seconds_count{deadline="reservation"}"#) ?? 0) >= 1)
            #expect((Self.sample(text, "tether_store_commit_seconds_count") ?? 0) >= 1)
            #expect((Self.sample(text, "tether_store_commit_batch_size_count") ?? 0) >= 1)
            #expect(text.contains("# TYPE tether_rtt_seconds histogram"))
            #expect(
                (Self.sample(
                    text,
                    #"http_server_request_duration_count{http_route="/v1/projects/{projectId}/sessions",http_request_method="POST",http_response_status_code="201"}"#
                ) ?? 0) >= 1)

            // The project's gauges drop to 0 once it is deleted.
            _ = try await h.api.delete("/v1/projects/metrics-p")
            let after = try await h.api.call(.get, "/metrics", key: nil).text
            #expect(Self.sample(after, #"tether_slots{project="metrics-p",state="total"}"#) == 0)
            await client.abort()
        }
    }
}
