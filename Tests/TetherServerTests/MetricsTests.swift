import Foundation
import HTTPTypes
import Testing
import TetherCore
import TetherProtocol
import TetherTestKit

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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
            // A 30 s heartbeat timeout: the client must stay connected through the test (with 1 s, a stall of a
            // loaded full run expired it and the next ping failed with "I/O on closed channel").
            _ = try await h.api.post(
                "/v1/projects",
                #"{"id":"metrics-p","capacity":4,"heartbeat":{"intervalMs":200,"timeoutMs":30000}}"#
            )
            let before = try await h.api.call(.get, "/metrics", key: nil)
            let heartbeatsBefore =
                Self.sample(before.text, #"tether_heartbeats_received_total{transport="websocket"}"#) ?? 0
            let c = try await h.session("alice", project: "metrics-p")
            let client = try await h.websocket(answerPings: true)
            _ = try #require(try await client.hello(token: c.token))
            for seq in 1...5 { _ = try await client.ping(seq: UInt64(seq)) }
            // A reservation left to expire: a deadline whose lateness is recorded. The short TTL is set only now:
            // with it from the start, a stall of the loaded test machine between alice's apply and her create
            // once let her reservation lapse first (409).
            let shortened = try await h.api.call(
                .patch, "/v1/projects/metrics-p", json: #"{"reservationTtlMs":1000}"#)
            #expect(shortened.status == .ok, "\(shortened.text)")
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

    /// The metric families the README's **Metrics.** paragraph names (`tether_…` and `http_server_…`).
    static func readmeFamilies() throws -> [String] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "**Metrics.**"))
        let rest = text[start.upperBound...]
        let paragraph = rest[..<(rest.range(of: "\n\n")?.lowerBound ?? rest.endIndex)]
        var names: [String] = []
        for piece in paragraph.split(separator: "`").enumerated() where piece.offset % 2 == 1 {
            let name = String(piece.element.prefix { $0 != "{" })
            if name.hasPrefix("tether_") || name.hasPrefix("http_server_"), !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// A fresh process (nothing recorded yet in its registry): its first `/metrics` already lists every family
    /// the README names, with zero series for the label values known at start, and a project's pool and
    /// webhook series right after a restart, before any traffic.
    @Test func aFreshServerListsEveryFamilyFromTheStart() async throws {
        let families = try Self.readmeFamilies()
        #expect(families.count >= 9, "\(families)")
        let key = "metrics-key-0123456789"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tether-m-\(UUID()).sqlite").path
        var server = try await ServeProcess.start(dataPath: path, apiKey: key)
        let text = try await Self.scrape(server)
        for family in families {
            #expect(text.contains("# TYPE \(family) "), "\(family) is missing from a fresh server's /metrics")
        }
        for transport in Transport.allCases {
            #expect(Self.sample(text, #"tether_heartbeats_received_total{transport="\#(transport.rawValue)"}"#) == 0)
        }
        for kind in DeadlineKind.allCases {
            #expect(Self.sample(text, #"tether_detection_lateness_seconds_count{deadline="\#(kind.rawValue)"}"#) == 0)
        }
        #expect(Self.sample(text, "tether_rtt_seconds_count") == 0)
        #expect(Self.sample(text, "tether_store_commit_failures_total") == 0)

        // A project with a webhook, then a restart: its series are there before any traffic.
        let dead = ServeProcess.freePort()
        let (status, _) = try await server.call(
            "POST", "/v1/projects",
            #"{"id":"m","capacity":3,"webhook":{"url":"http://127.0.0.1:\#(dead)/hook","secret":"s3cret"}}"#, key: key)
        #expect(status == 201)
        _ = await server.terminate()
        server = try await ServeProcess.start(dataPath: path, apiKey: key)
        defer { server.stop() }
        let restarted = try await Self.scrape(server)
        #expect(Self.sample(restarted, #"tether_slots{project="m",state="idle"}"#) == 3)
        #expect(Self.sample(restarted, #"tether_sessions{project="m",state="connected"}"#) == 0)
        #expect(Self.sample(restarted, #"tether_webhook_deliveries_total{project="m",result="delivered"}"#) == 0)
        #expect(Self.sample(restarted, #"tether_webhook_deliveries_total{project="m",result="failed"}"#) == 0)
    }

    static func scrape(_ server: ServeProcess) async throws -> String {
        let url = try #require(URL(string: "http://127.0.0.1:\(server.port)/metrics"))
        let (data, _) = try await URLSession.shared.data(from: url)
        return String(decoding: data, as: UTF8.self)
    }
}
