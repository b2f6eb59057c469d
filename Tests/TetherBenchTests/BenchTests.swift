import Foundation
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import TetherClient
import TetherProtocol
import TetherTestKit

@testable import TetherBench

/// The parts of `tether bench` that have logic: percentiles, the load clients' wire parsing, the HTTP and
/// event-stream parsers, /proc parsing, and the shape of the result JSON. No timing is asserted.
struct BenchTests {
    // MARK: Percentiles

    @Test func percentilesUseNearestRank() throws {
        let s = try #require(LatencySummary((1...100).reversed().map(Double.init)))
        #expect(s.count == 100)
        #expect(s.p50 == 50)
        #expect(s.p99 == 99)  // not 100: 0.99 × 100 must not round up past 99
        #expect(s.max == 100)
        #expect(s.mean == 50.5)
    }

    @Test func percentilesOfFewSamples() throws {
        let one = try #require(LatencySummary([7]))
        #expect(one.p50 == 7 && one.p99 == 7 && one.max == 7)
        let three = try #require(LatencySummary([3, 1, 2]))
        #expect(three.p50 == 2)
        #expect(three.p99 == 3)
        #expect(LatencySummary([]) == nil)
        #expect(LatencySummary.percentile(0.5, ofSorted: [1, 2, 3, 4]) == 2)
        #expect(LatencySummary.percentile(0.99, ofSorted: Array(repeating: 1, count: 1000) + [5]) == 1)
    }

    // MARK: WebSocket and TCP frames

    @Test func clientWebSocketFramesAreMaskedWithTheZeroKeyAndReadBack() throws {
        var out = ByteBuffer()
        BenchWire.writeWebSocketFrame(opcode: BenchWire.Opcode.text, payload: ByteBuffer(string: "hello"), into: &out)
        #expect(Array(out.readableBytesView) == [0x81, 0x85, 0, 0, 0, 0] + Array("hello".utf8))
        let frame = try #require(try BenchWire.readWebSocketFrame(&out))
        #expect(frame.fin && frame.opcode == BenchWire.Opcode.text)
        #expect(String(buffer: frame.payload) == "hello")
        #expect(out.readableBytes == 0)
    }

    @Test func serverWebSocketFramesParseOnlyWhenComplete() throws {
        let long = String(repeating: "x", count: 300)
        var bytes: [UInt8] = [0x81, 126, 0x01, 0x2C] + Array(long.utf8)  // 300 = 0x012C
        bytes += [0x89, 2, 0xAB, 0xCD]  // a ping frame after it
        var partial = ByteBuffer(bytes: bytes.prefix(100))
        #expect(try BenchWire.readWebSocketFrame(&partial) == nil)
        #expect(partial.readerIndex == 0)
        var buffer = ByteBuffer(bytes: bytes)
        let text = try #require(try BenchWire.readWebSocketFrame(&buffer))
        #expect(text.payload.readableBytes == 300)
        let ping = try #require(try BenchWire.readWebSocketFrame(&buffer))
        #expect(ping.opcode == BenchWire.Opcode.ping)
        #expect(Array(ping.payload.readableBytesView) == [0xAB, 0xCD])
        #expect(try BenchWire.readWebSocketFrame(&buffer) == nil)
    }

    @Test func maskedFramesAreUnmasked() throws {
        let mask: [UInt8] = [1, 2, 3, 4]
        let payload = Array("ping".utf8).enumerated().map { $0.element ^ mask[$0.offset % 4] }
        var buffer = ByteBuffer(bytes: [0x81, 0x84] + mask + payload)
        let frame = try #require(try BenchWire.readWebSocketFrame(&buffer))
        #expect(String(buffer: frame.payload) == "ping")
    }

    @Test func tcpFramesRoundTripAndBadLengthsThrow() throws {
        var out = ByteBuffer()
        BenchWire.writeTCPFrame(type: 3, payload: ByteBuffer(string: "{}"), into: &out)
        #expect(Array(out.readableBytesView) == [0, 0, 0, 3, 3, 0x7B, 0x7D])
        var partial = ByteBuffer(bytes: Array(out.readableBytesView).prefix(5))
        #expect(try BenchWire.readTCPFrame(&partial) == nil)
        let frame = try #require(try BenchWire.readTCPFrame(&out))
        #expect(frame.type == 3 && String(buffer: frame.payload) == "{}")
        var zero = ByteBuffer(bytes: [0, 0, 0, 0, 1])
        #expect(throws: BenchWire.Malformed.self) { try BenchWire.readTCPFrame(&zero) }
    }

    @Test func pingAndPongMessagesAreExactJSON() {
        var out = ByteBuffer()
        BenchWire.writePing(seq: 42, t: 1_700_000_000_123, into: &out)
        #expect(String(buffer: out) == #"{"type":"ping","seq":42,"t":1700000000123}"#)
        out.clear()
        BenchWire.writePong(seq: 0, t: 0, into: &out)
        #expect(String(buffer: out) == #"{"type":"pong","seq":0,"t":0}"#)
        out.clear()
        ServerMessage.writeDecimal(UInt64.max, into: &out)
        #expect(String(buffer: out) == "18446744073709551615")
    }

    // MARK: JSON scanning

    @Test func scannerFindsFlatFields() {
        let pong = Array(#"{"type":"pong","seq":12,"t":-5,"st":1700000000000}"#.utf8)
        #expect(JSONScan.string("type", in: pong) == "pong")
        #expect(JSONScan.integer("seq", in: pong) == 12)
        #expect(JSONScan.integer("t", in: pong) == -5)
        #expect(JSONScan.integer("st", in: pong) == 1_700_000_000_000)
        #expect(JSONScan.integer("missing", in: pong) == nil)
        #expect(JSONScan.string("seq", in: pong) == nil)  // a number, not a string
        let spaced = Array(#"{ "reason" : "expired", "retryAfterMs": 10 }"#.utf8)
        #expect(JSONScan.string("reason", in: spaced) == "expired")
        #expect(JSONScan.integer("retryAfterMs", in: spaced) == 10)
    }

    @Test func scannerReadsByteBufferViews() {
        var buffer = ByteBuffer(string: "xx")
        buffer.moveReaderIndex(forwardBy: 2)
        buffer.writeString(#"{"sessionId":"s-1","clientToken":"v1.a.b"}"#)
        #expect(JSONScan.string("clientToken", in: buffer.readableBytesView) == "v1.a.b")
    }

    // MARK: HTTP and event streams

    /// A bench HTTP connection over an embedded channel (NIO's client pipeline and the reply collector).
    func embeddedConnection() throws -> (EmbeddedChannel, BenchHTTPConnection) {
        let channel = EmbeddedChannel()
        try BenchHTTPConnection.addHandlers(to: channel)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, try BenchHTTPConnection.over(channel, apiKey: "k"))
    }

    /// A request on a connection that has closed fails at once: it was queued behind a reply that could never
    /// come, and a `storm` HTTP client whose connection died between two heartbeats waited for it until its
    /// session's grace ran out (`tether bench storm-term --smoke` lost one session in three runs).
    @Test func aRequestOnAClosedConnectionFailsAtOnce() throws {
        let (channel, conn) = try embeddedConnection()
        try channel.close().wait()
        let outcome = Outcome(conn.request("POST", "/v1/heartbeat", body: "{}"))
        channel.embeddedEventLoop.run()
        #expect(outcome.failed)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    /// What a request's future completed with, so far.
    final class Outcome: Sendable {
        let value = Mutex<Result<HTTPReply, any Error>?>(nil)
        init(_ future: EventLoopFuture<HTTPReply>) {
            future.whenComplete { result in self.value.withLock { $0 = result } }
        }
        var reply: HTTPReply? { value.withLock { try? $0?.get() } }
        var failed: Bool { value.withLock { if case .failure = $0 { true } else { false } } }
    }

    @Test func httpRepliesWithContentLengthArriveInPieces() throws {
        let (channel, conn) = try embeddedConnection()
        let outcome = Outcome(conn.request("POST", "/v1/x", body: "{}"))
        channel.embeddedEventLoop.run()
        let request = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: request).hasPrefix("POST /v1/x HTTP/1.1\r\n"))
        let text = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello"
        let bytes = Array(text.utf8)
        for chunk in stride(from: 0, to: bytes.count, by: 7) {
            #expect(outcome.reply == nil)
            try channel.writeInbound(ByteBuffer(bytes: bytes[chunk..<min(bytes.count, chunk + 7)]))
        }
        let reply = try #require(outcome.reply)
        #expect(reply.status == 201)
        #expect(reply.headers == ["content-length": "5", "content-type": "application/json"])
        #expect(reply.text == "hello")
    }

    @Test func httpChunkedAndPipelinedReplies() throws {
        let (channel, conn) = try embeddedConnection()
        let outcomes = (0..<4).map { _ in Outcome(conn.request("GET", "/v1/x")) }
        channel.embeddedEventLoop.run()
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\n\r\n" + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        try channel.writeInbound(ByteBuffer(string: text))
        let replies = outcomes.prefix(3).map(\.reply)
        #expect(replies[0]?.status == 200 && replies[0]?.headers == ["transfer-encoding": "chunked"])
        #expect(replies[0]?.text == "abcde")
        #expect(replies[1]?.status == 204 && replies[1]?.headers == [:] && replies[1]?.body == [])
        #expect(replies[2]?.status == 200 && replies[2]?.headers == ["content-length": "0"])
        #expect(replies[2]?.body == [])
        #expect(outcomes[3].reply == nil && !outcomes[3].failed)
        // A malformed reply fails the request waiting for it and closes the connection.
        _ = try? channel.writeInbound(ByteBuffer(string: "NOPE\r\n\r\n"))
        #expect(outcomes[3].failed)
        #expect(!channel.isActive)
    }

    @Test func eventStreamEventsSplitAcrossReads() {
        var parser = ServerSentEventParser()
        let text =
            ": hello\n\nid: 7\nevent: concurrency.released\ndata: {\"a\":1}\n\nid: 8\r\ndata: x\r\ndata: y\r\n\r\n"
        let bytes = Array(text.utf8)
        var events: [ServerSentEvent] = []
        for b in bytes { events += parser.feed([b]) }
        #expect(
            events == [
                ServerSentEvent(id: "7", event: "concurrency.released", data: #"{"a":1}"#),
                ServerSentEvent(id: "8", event: nil, data: "x\ny"),
            ])
    }

    // MARK: /proc and the report

    @Test func procStatFieldsAfterTheCommandName() throws {
        let line = "1234 (tether serve) S 1 1234 1234 0 -1 4194560 5000 0 0 0 250 75 0 0 20 0 3 0 100 0 0"
        let cpu = try #require(BenchProc.parseStat(line, ticksPerSecond: 100))
        #expect(cpu.user == 2.5)
        #expect(cpu.system == 0.75)
        #expect(BenchProc.parseStat("garbage", ticksPerSecond: 100) == nil)
    }

    /// A server run under a profiler (`TETHER_BENCH_SERVER_PREFIX`) is found among the wrapper's descendants.
    @Test func procParentsAndDescendants() throws {
        #expect(BenchProc.parseParent("1234 (tether (x) serve) S 77 1234 1234 0 -1") == 77)
        #expect(BenchProc.parseParent("garbage") == nil)
        // 10 → 11 → 13 → 14, 10 → 12; 20 is elsewhere.
        let parents: [Int32: Int32] = [11: 10, 12: 10, 13: 11, 14: 13, 20: 1, 10: 1]
        #expect(BenchProc.descendants(of: 10, parents: parents) == [11, 12, 13, 14])
        #expect(BenchProc.descendants(of: 14, parents: parents).isEmpty)
        // This process is among its parent's descendants, and runs this executable.
        let me = getpid()
        let table = BenchProc.parentTable()
        let parent = try #require(table[me])
        #expect(BenchProc.descendants(of: parent, parents: table).contains(me))
        #expect(BenchProc.executable(of: me) != nil)
    }

    @Test func goalsAreCheckedBothWays() {
        var r = ScenarioResult(
            name: "x", parameters: [:], figures: ["a": 5, "b": 5], goals: [], serverCPU: .zero, loadCPU: .zero,
            windowSeconds: 0, totalSeconds: 0, notes: [])
        r.goal("a", "<=", 10)
        r.goal("b", ">=", 10)
        r.goal("c", "<=", 1)
        #expect(r.goals.map(\.met) == [true, false, nil])
    }

    @Test func reportJSONHasTheDocumentedShape() throws {
        var scenario = ScenarioResult(
            name: "heartbeats", parameters: ["connections": 10], figures: ["ackedPerSecond": 1234.5], goals: [],
            serverCPU: CPUTime(user: 1, system: 0.5), loadCPU: CPUTime(user: 2, system: 1), windowSeconds: 10,
            totalSeconds: 12, notes: ["n"])
        scenario.goal("ackedPerSecond", ">=", 50_000)
        let report = BenchReport(
            startedAt: 1, build: "debug", smoke: true,
            machine: MachineInfo(cores: 2, memoryBytes: 1 << 30, cpuModel: "cpu", kernel: "Linux 6", fdLimit: 20_000),
            scenarios: [scenario])
        let data = try JSONEncoder().encode(report)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["schema"] as? Int == 1)
        #expect(json["build"] as? String == "debug")
        #expect((json["machine"] as? [String: Any])?["cores"] as? Int == 2)
        let first = try #require((json["scenarios"] as? [[String: Any]])?.first)
        #expect(first["name"] as? String == "heartbeats")
        #expect((first["figures"] as? [String: Any])?["ackedPerSecond"] as? Double == 1234.5)
        #expect((first["serverCPU"] as? [String: Any])?["total"] as? Double == 1.5)
        #expect((first["loadCPU"] as? [String: Any])?["total"] as? Double == 3)
        let goal = try #require((first["goals"] as? [[String: Any]])?.first)
        #expect(goal["figure"] as? String == "ackedPerSecond")
        #expect(goal["met"] as? Bool == false)
        let decoded = try JSONDecoder().decode(BenchReport.self, from: data)
        #expect(decoded.scenarios.first?.serverCPU == CPUTime(user: 1, system: 0.5))
    }

    @Test func workerConfigRoundTrips() throws {
        var config = WorkerConfig(
            role: .expire, apiPort: 1, clientPort: 2, tcpPort: 3, apiKey: "k", projectId: "p", userPrefix: "s-",
            firstIndex: 10, count: 5, sourceIP: "127.0.0.2", transport: "ws", intervalMs: 1_000, timeoutMs: 3_000,
            resultPath: "/tmp/x.json")
        config.expireRate = 5_000
        let decoded = try JSONDecoder().decode(WorkerConfig.self, from: try JSONEncoder().encode(config))
        #expect(decoded.role == .expire && decoded.firstIndex == 10 && decoded.expireRate == 5_000)
        config.role = .storm
        config.transport = "http"
        config.nice = 19
        let storm = try JSONDecoder().decode(WorkerConfig.self, from: try JSONEncoder().encode(config))
        #expect(storm.role == .storm && storm.transport == "http" && storm.nice == 19)
    }

    /// What a `storm` client keeps to come back with: the resume token of its last welcome, and a kick's
    /// `retryAfterMs`; a client made with a resume token says hello with it, not with the client token.
    @Test func aStormClientResumesWithItsLastWelcomesToken() throws {
        let delegate = RecordingDelegate()
        let first = LoadClient(
            index: 0, sessionId: "s-1", token: "v2.k.client", websocket: false, port: 1, delegate: delegate)
        let channel = EmbeddedChannel(handler: first)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(try Self.tcpMessages(channel) == [#"{"type":"hello","token":"v2.k.client"}"#])
        try channel.writeInbound(Self.tcpFrame(#"{"type":"welcome","sessionId":"s-1","resumeToken":"r-1"}"#))
        #expect(delegate.welcomes == 1 && first.resumeToken == "r-1")
        try channel.writeInbound(Self.tcpFrame(#"{"type":"welcome","sessionId":"s-1","resumeToken":"r-2"}"#))
        #expect(first.resumeToken == "r-2")
        try channel.writeInbound(Self.tcpFrame(#"{"type":"kick","reason":"shutdown","retryAfterMs":750}"#))
        #expect(first.kickReason == "shutdown" && first.kickRetryAfterMs == 750)

        let again = LoadClient(
            index: 0, sessionId: "s-1", token: first.token, websocket: false, port: 1, delegate: delegate,
            resumeToken: first.resumeToken)
        let next = EmbeddedChannel(handler: again)
        try next.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(try Self.tcpMessages(next) == [#"{"type":"hello","resumeToken":"r-2"}"#])
    }

    /// A kick in the same read as a server ping reaches the load client even when the pong cannot be written (the
    /// server closed for good): the read's pongs go out after it, and none after a kick.
    @Test func aKickInTheReadOfAPingIsKeptWhenThePongCannotBeWritten() throws {
        let delegate = RecordingDelegate()
        let (client, channel) = try Self.helloed(delegate)
        try channel.writeInbound(Self.tcpFrame(#"{"type":"welcome","sessionId":"s-1","resumeToken":"r-1"}"#))
        let failing = FailingWrites()
        try channel.pipeline.syncOperations.addHandler(failing, position: .first)
        var read = Self.tcpFrame(#"{"type":"ping","seq":1,"t":5}"#)
        var kick = Self.tcpFrame(#"{"type":"kick","reason":"destroyed"}"#)
        read.writeBuffer(&kick)
        try channel.writeInbound(read)
        #expect(client.kickReason == "destroyed")
        #expect(failing.writes == 0, "no pong after a kick")
        withExtendedLifetime(delegate) {}
    }

    /// The pongs of a read go out once it is handled, in order.
    @Test func theLoadClientAnswersTheServersPingsOfARead() throws {
        let delegate = RecordingDelegate()
        let (_, channel) = try Self.helloed(delegate)
        var read = Self.tcpFrame(#"{"type":"ping","seq":1,"t":5}"#)
        var second = Self.tcpFrame(#"{"type":"ping","seq":2,"t":6}"#)
        read.writeBuffer(&second)
        try channel.writeInbound(read)
        #expect(
            try Self.tcpMessages(channel) == [#"{"type":"pong","seq":1,"t":5}"#, #"{"type":"pong","seq":2,"t":6}"#])
        withExtendedLifetime(delegate) {}
    }

    /// A TCP load client connected over an `EmbeddedChannel`, its hello read. The client holds `delegate`
    /// unowned: the caller keeps it alive.
    static func helloed(_ delegate: RecordingDelegate) throws -> (LoadClient, EmbeddedChannel) {
        let client = LoadClient(
            index: 0, sessionId: "s-1", token: "v2.k.client", websocket: false, port: 1, delegate: delegate)
        let channel = EmbeddedChannel(handler: client)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        _ = try tcpMessages(channel)
        return (client, channel)
    }

    final class RecordingDelegate: LoadClientDelegate {
        var welcomes = 0
        func welcomed(_ client: LoadClient) { welcomes += 1 }
        func ponged(_ client: LoadClient, seq: UInt64, st: Int64) {}
        func kicked(_ client: LoadClient) {}
        func pushed(_ client: LoadClient) {}
        func closed(_ client: LoadClient) {}
    }

    static func tcpFrame(_ json: String) -> ByteBuffer {
        var out = ByteBuffer()
        BenchWire.writeTCPFrame(type: 2, payload: ByteBuffer(string: json), into: &out)
        return out
    }

    /// The JSON of every TCP frame written so far.
    static func tcpMessages(_ channel: EmbeddedChannel) throws -> [String] {
        var all = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&part) }
        var messages: [String] = []
        while let frame = try BenchWire.readTCPFrame(&all) { messages.append(String(buffer: frame.payload)) }
        return messages
    }
}
