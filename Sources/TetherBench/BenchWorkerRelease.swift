import Foundation
import NIOCore
import TetherClient

/// The state of a `release` worker: when each `bye` went out, and how the events are read.
struct ReleaseState {
    var byeNs: [String: UInt64] = [:]
    var measured = 0
    var expected = 0
    var reader: BenchHTTPConnection?
    var stream = ServerSentEventParser()
    var cursor: UInt64 = 0
}

/// One event of `GET /v1/events` as far as the benchmark reads it.
struct EventSummary: Decodable, Sendable {
    var cursor: UInt64
    var at: Int64
    var type: String
    var sessionId: String?
    var data: [String: String]?

    private enum CodingKeys: String, CodingKey { case cursor, at, type, sessionId, data }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cursor = try c.decode(UInt64.self, forKey: .cursor)
        at = try c.decode(Int64.self, forKey: .at)
        type = try c.decode(String.self, forKey: .type)
        sessionId = try c.decodeIfPresent(String.self, forKey: .sessionId)
        // Only the string fields of `data` (cause, reason, ...) are kept.
        if let raw = try? c.decode([String: LooseValue].self, forKey: .data) {
            data = raw.compactMapValues { $0.string }
        }
    }

    /// A JSON value of which only strings matter.
    struct LooseValue: Decodable {
        var string: String?
        init(from decoder: any Decoder) throws {
            string = try? decoder.singleValueContainer().decode(String.self)
        }
    }
}

/// A page of `GET /v1/events`.
struct EventPage: Decodable, Sendable {
    var events: [EventSummary]
    var nextCursor: UInt64
}

// `release`: every client says `bye` in turn; an event-stream reader (SSE, or polling the list when the
// server has no stream) times each `concurrency.released` from the moment its `bye` was written.
extension LoadWorker {
    /// Opens the event reader before `ready`.
    func openEventReader() async throws {
        let conn = try await BenchHTTPConnection.connect(
            on: loop, port: config.apiPort, apiKey: config.apiKey, sourceIP: config.sourceIP, tls: tls
        ).get()
        try await loop.flatSubmit { () -> EventLoopFuture<Void> in
            self.release.reader = conn
            let path = "/v1/events?projectId=\(self.config.projectId)&after=0"
            return conn.stream(path, accept: "text/event-stream") { [self] bytes in
                for event in release.stream.feed(bytes) {
                    let data = Array(event.data.utf8)
                    let type = event.event ?? JSONScan.string("type", in: data) ?? ""
                    releaseEvent(type: type, sessionId: JSONScan.string("sessionId", in: data))
                }
            }.map { reply in
                if reply.headers["content-type"]?.hasPrefix("text/event-stream") == true {
                    self.result.eventMode = "sse"
                } else {
                    self.result.eventMode = "poll"
                    self.takePage(reply)
                    self.poll()
                }
            }
        }.get()
    }

    private func takePage(_ reply: HTTPReply) {
        guard reply.status == 200, let page = try? JSONDecoder().decode(EventPage.self, from: Data(reply.body)) else {
            return
        }
        for event in page.events { releaseEvent(type: event.type, sessionId: event.sessionId) }
        release.cursor = max(release.cursor, page.nextCursor)
    }

    private func poll() {
        guard !stopped, let conn = release.reader else { return }
        let path = "/v1/events?projectId=\(config.projectId)&after=\(release.cursor)&limit=1000"
        conn.request("GET", path).whenComplete { [self] outcome in
            if case .success(let reply) = outcome { takePage(reply) }
            loop.scheduleTask(in: .milliseconds(1)) { [self] in poll() }
        }
    }

    private func releaseEvent(type: String, sessionId: String?) {
        guard type == "concurrency.released", let sessionId, let sent = release.byeNs.removeValue(forKey: sessionId)
        else { return }
        latencies.append(Double(BenchProc.monotonicNs() &- sent) / 1_000_000)
        release.measured += 1
        if release.measured == release.expected { finish() }
    }

    /// Client `i` says `bye` at start + i / rate.
    func startRelease(at startMs: Double) {
        let live = clients.filter { $0.phase == .live }
        release.expected = live.count
        let rate = max(1, config.releaseRate)
        for (i, client) in live.enumerated() {
            let when = startMs + Double(i) * 1_000 / rate
            client.timer = at(when) { [self, client] in
                client.repeated?.cancel()
                release.byeNs[client.sessionId] = BenchProc.monotonicNs()
                client.sendBye()
            }
        }
        at(startMs + Double(live.count) * 1_000 / rate + 10_000) { [self] in
            result.missing = release.expected - release.measured
            finish()
        }
        if live.isEmpty { finish() }
    }
}
