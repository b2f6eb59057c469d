import Foundation
import NIOCore
import NIOWebSocket
import Testing
import TetherProtocol
import TetherServer
import TetherTestKit

/// Hostile and broken clients. Each case gets its documented close (WebSocket: 1009 too big, 1002 a frame
/// RFC 6455 forbids (more in ``WebSocketRFCTests``), 4000 protocol error, 4001 bad token, 4029 rate limited;
/// TCP: a `kick` with `tooLarge`, `protocolError`, `badToken`, `rateLimited`, then the close), while two healthy clients beside it (one WebSocket, one TCP) keep
/// heartbeating, stay connected and keep getting pongs.
@Suite struct AbuseTests {
    /// Runs `abuse` against project `p` next to two healthy clients in project `n`.
    static func withNeighbours(_ abuse: @escaping @Sendable (PlaneHarness) async throws -> Void) async throws {
        try await PlaneHarness.run { h in
            // The neighbours' timeout is long: they show health by their pongs and their state, and their
            // heartbeat tasks share the test process's cooperative pool with every other test running at once
            // (a 2-3 s timeout on a loaded CI machine is a race, not a check of the abuse).
            try await h.project("n", intervalMs: 200, timeoutMs: 30_000)
            try await h.project("p", intervalMs: 200, timeoutMs: 2_000)
            let neighbours = [
                try await Heartbeater.start(h, .websocket, userId: "healthy-ws", project: "n"),
                try await Heartbeater.start(h, .tcp, userId: "healthy-tcp", project: "n"),
            ]
            try await abuse(h)
            for neighbour in neighbours { try await neighbour.expectHealthy(h) }
            for neighbour in neighbours { neighbour.stop() }
        }
    }

    /// An attached attacker: a session of `mallory` in project `p`, welcomed.
    static func attached(_ h: PlaneHarness, _ wire: Wire, answerPings: Bool = false, project: String = "p")
        async throws -> (any ClientConnection, Credentials)
    {
        let c = try await h.session("mallory", project: project)
        let (client, _) = try await h.connected(wire, c, answerPings: answerPings)
        return (client, c)
    }

    /// Expects the attacker's session in grace after a protocol close.
    static func expectGrace(_ h: PlaneHarness, _ c: Credentials, causes: Set<String> = ["error"]) async throws {
        let session = try await h.wait(c.sessionId, state: "grace")
        #expect(causes.contains(session["lastCause"].string ?? ""), "cause \(session["lastCause"])")
    }

    // MARK: - WebSocket

    enum WebSocketAbuse: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case oversizedFrame, oversizedFragmentedMessage, binaryGarbage, invalidJSON, unknownType, missingField
        case continuationWithoutStart, emptyToken, pingBeforeHello, secondHello, unknownSuspendReason, messageFlood,
            pingFrameFlood
        case forgedToken, tamperedToken, replayedResumeToken
        var testDescription: String { rawValue }
    }

    @Test(.serialized, arguments: WebSocketAbuse.allCases)
    func webSocket(_ abuse: WebSocketAbuse) async throws {
        try await Self.withNeighbours { h in
            switch abuse {
            case .oversizedFrame:
                // The header declares 64 KiB + 1; it is refused before any payload is waited for.
                let (client, c) = try await Self.attached(h, .websocket)
                let ws = try #require(client as? WebSocketTestClient)
                var bytes = WebSocketTestClient.frameHeader(opcode: .text, length: 64 * 1024 + 1)
                bytes.writeString(#"{"type":"ping","#)
                try? await ws.send(raw: bytes)
                await expectProtocolClose(ws, code: 1009, tcpReason: "")
                try await Self.expectGrace(h, c, causes: ["error", "closed"])
            case .oversizedFragmentedMessage:
                // Each fragment is under the limit; the message is not.
                let (client, c) = try await Self.attached(h, .websocket)
                let ws = try #require(client as? WebSocketTestClient)
                let half = ByteBuffer(repeating: UInt8(ascii: "x"), count: 40 * 1024)
                try? await ws.send(frame: .text, half, fin: false)
                try? await ws.send(frame: .continuation, half, fin: true)
                await expectProtocolClose(ws, code: 1009, tcpReason: "")
                try await Self.expectGrace(h, c, causes: ["error", "closed"])
            case .continuationWithoutStart:
                let (client, c) = try await Self.attached(h, .websocket)
                let ws = try #require(client as? WebSocketTestClient)
                try? await ws.send(frame: .continuation, ByteBuffer(bytes: ClientMessage.ping(seq: 1, t: 1).json))
                await expectProtocolClose(ws, code: 1002, tcpReason: "")  // RFC 6455: a protocol error
                try await Self.expectGrace(h, c, causes: ["error", "closed"])
            case .binaryGarbage:
                let (client, c) = try await Self.attached(h, .websocket)
                let ws = try #require(client as? WebSocketTestClient)
                var generator = SeededGenerator(seed: 7)
                let bytes = (0..<512).map { _ in UInt8.random(in: 0...255, using: &generator) }
                try? await ws.send(frame: .binary, ByteBuffer(bytes: bytes))
                await expectProtocolClose(ws, code: 4000, tcpReason: "")
                try await Self.expectGrace(h, c)
            case .invalidJSON:
                try await Self.protocolErrorAfterHello(h, .websocket, json: #"{"type":"ping","seq":"#)
            case .unknownType:
                try await Self.protocolErrorAfterHello(h, .websocket, json: #"{"type":"dance","seq":1}"#)
            case .missingField:
                try await Self.protocolErrorAfterHello(h, .websocket, json: #"{"type":"ping"}"#)
            case .secondHello:
                try await Self.secondHello(h, .websocket)
            case .unknownSuspendReason:
                try await Self.protocolErrorAfterHello(
                    h, .websocket, json: #"{"type":"suspend","expectedMs":1000,"reason":"nap"}"#)
            case .emptyToken:
                // An empty token is a bad token like any other forged one (issue 12, item 4), and so is an
                // empty resume token.
                try await Self.refusedToken(h, .websocket, token: "")
                let client = try await h.connect(.websocket)
                try? await client.send(json: #"{"type":"hello","resumeToken":""}"#, frameType: 0)
                await expectKick(client, reason: "badToken", code: 4001)
            case .pingBeforeHello:
                try await Self.protocolErrorBeforeHello(h, .websocket, json: #"{"type":"ping","seq":1,"t":1}"#)
            case .messageFlood:
                try await Self.flood(h, .websocket)
            case .pingFrameFlood:
                let (client, c) = try await Self.attached(h, .websocket)
                let ws = try #require(client as? WebSocketTestClient)
                var frame = WebSocketTestClient.frameHeader(opcode: .ping, length: 1)
                frame.writeInteger(UInt8(ascii: "x") ^ 0x11)  // masked with the header's key
                await Self.flood(
                    ws, answered: { ws.inbox.pongFrames },
                    send: { count in
                        var bytes = ByteBuffer()
                        for _ in 0..<count { bytes.writeImmutableBuffer(frame) }
                        try? await ws.send(raw: bytes)
                    })
                await expectProtocolClose(ws, code: 4029, tcpReason: "")
                #expect(ws.inbox.pongFrames >= 90, "pong frames \(ws.inbox.pongFrames)")
                try await Self.expectGrace(h, c)
            case .forgedToken:
                try await Self.refusedToken(h, .websocket, token: "v1.eyJzIjoicy0xIiwiZSI6MX0.c2lnbmF0dXJl")
            case .tamperedToken:
                let c = try await h.session("mallory")
                try await Self.refusedToken(h, .websocket, token: Self.tamper(c.token))
                #expect(try await h.get(c.sessionId)["state"].string == "created")
            case .replayedResumeToken:
                try await Self.replayedResumeToken(h, .websocket)
            }
        }
    }

    // MARK: - TCP

    enum TCPAbuse: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case lengthPrefix2to31, zeroLength, justOverTheLimit, truncatedFrameThenSilence, truncatedFrameThenMore
        case truncatedFrameThenEOF
        case randomBytes, randomFrameBody, invalidJSON, unknownFrameType, mismatchedFrameType, serverOnlyType
        case pingBeforeHello, secondHello, messageFlood, emptyToken, forgedToken, tamperedToken, replayedResumeToken
        var testDescription: String { rawValue }
    }

    @Test(.serialized, arguments: TCPAbuse.allCases)
    func tcp(_ abuse: TCPAbuse) async throws {
        try await Self.withNeighbours { h in
            switch abuse {
            case .lengthPrefix2to31:
                let (client, c) = try await Self.attached(h, .tcp)
                try await Self.raw(client, [0x80, 0, 0, 0, 3] + Array(#"{"type":"ping","seq":1}"#.utf8))
                await expectProtocolClose(client, code: 1009, tcpReason: "tooLarge")
                try await Self.expectGrace(h, c)
            case .zeroLength:
                let client = try await h.tcp()
                try await Self.raw(client, [0, 0, 0, 0])
                await expectProtocolClose(client, code: 1009, tcpReason: "tooLarge")
            case .justOverTheLimit:
                // The length says 64 KiB + 1; it is refused before any payload is waited for.
                let client = try await h.tcp()
                var bytes = ByteBuffer()
                bytes.writeInteger(UInt32(64 * 1024 + 1))
                bytes.writeInteger(UInt8(3))
                bytes.writeString(#"{"type":"ping","#)
                try? await client.send(raw: bytes)
                await expectProtocolClose(client, code: 1009, tcpReason: "tooLarge")
            case .truncatedFrameThenSilence:
                // Half a frame, then nothing (not even answers to the server's pings): no heartbeat, so the
                // session times out.
                try await h.project("short", intervalMs: 200, timeoutMs: 600)
                let (client, c) = try await Self.attached(h, .tcp, answerPings: false, project: "short")
                try await Self.raw(client, [0, 0, 0, 100, 3] + Array(#"{"type":"#.utf8))
                await expectKick(client, reason: "expired", code: 4004)
                let session = try await h.wait(c.sessionId, state: "grace")
                #expect(session["lastCause"].string == "heartbeatTimeout")
            case .truncatedFrameThenMore:
                // Half a frame, then whole frames: read as the rest of the first, which is then not JSON.
                let (client, c) = try await Self.attached(h, .tcp)
                try await Self.raw(client, [0, 0, 0, 100, 3] + Array(#"{"type":"#.utf8))
                let pings = (1...5).map { ClientMessage.ping(seq: UInt64($0), t: 0) }
                try? await (client as! TCPTestClient).send(batch: pings)
                await expectProtocolClose(client, code: 4000, tcpReason: "protocolError")
                try await Self.expectGrace(h, c)
            case .truncatedFrameThenEOF:
                let (client, c) = try await Self.attached(h, .tcp)
                try await Self.raw(client, [0, 0, 0, 100, 3] + Array(#"{"type":"#.utf8))
                await (client as! TCPTestClient).shutdownOutput()
                #expect(await client.inbox.waitClosed())
                try await Self.expectGrace(h, c, causes: ["closed", "error"])
            case .randomBytes:
                let client = try await h.tcp()
                var generator = SeededGenerator(seed: 31)
                let bytes = [0xC3] + (0..<255).map { _ in UInt8.random(in: 0...255, using: &generator) }
                try await Self.raw(client, bytes)
                await expectProtocolClose(client, code: 1009, tcpReason: "tooLarge")
            case .randomFrameBody:
                let client = try await h.tcp()
                var generator = SeededGenerator(seed: 32)
                let body = (0..<40).map { _ in UInt8.random(in: 0...255, using: &generator) }
                try await Self.raw(client, [0, 0, 0, 41, 0xAB] + body)
                await expectProtocolClose(client, code: 4000, tcpReason: "protocolError")
            case .invalidJSON:
                try await Self.protocolErrorAfterHello(h, .tcp, json: #"{"type":"ping","seq":"#)
            case .unknownFrameType:
                try await Self.protocolErrorAfterHello(h, .tcp, json: #"{"type":"ping","seq":1,"t":1}"#, frameType: 9)
            case .mismatchedFrameType:
                // A ping's JSON in a bye frame.
                try await Self.protocolErrorAfterHello(h, .tcp, json: #"{"type":"ping","seq":1,"t":1}"#, frameType: 6)
            case .serverOnlyType:
                try await Self.protocolErrorAfterHello(h, .tcp, json: #"{"type":"kick","reason":"x"}"#, frameType: 7)
            case .pingBeforeHello:
                try await Self.protocolErrorBeforeHello(h, .tcp, json: #"{"type":"ping","seq":1,"t":1}"#)
            case .secondHello:
                try await Self.secondHello(h, .tcp)
            case .messageFlood:
                try await Self.flood(h, .tcp)
            case .emptyToken:
                try await Self.refusedToken(h, .tcp, token: "")
            case .forgedToken:
                try await Self.refusedToken(h, .tcp, token: "v1.eyJzIjoicy0xIiwiZSI6MX0.c2lnbmF0dXJl")
            case .tamperedToken:
                let c = try await h.session("mallory")
                try await Self.refusedToken(h, .tcp, token: Self.tamper(c.token))
                #expect(try await h.get(c.sessionId)["state"].string == "created")
            case .replayedResumeToken:
                try await Self.replayedResumeToken(h, .tcp)
            }
        }
    }

    // MARK: - The cases

    static func raw(_ client: any ClientConnection, _ bytes: [UInt8]) async throws {
        try await (client as! TCPTestClient).send(raw: ByteBuffer(bytes: bytes))
    }

    /// An attached client (of another user, `eve`) sends `json`; closed with 4000 / `protocolError`,
    /// its session to grace.
    static func protocolErrorAfterHello(
        _ h: PlaneHarness, _ wire: Wire, json: String, frameType: UInt8 = 3,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let c = try await h.session("eve")
        let (client, _) = try await h.connected(wire, c)
        try? await client.send(json: json, frameType: frameType)
        await expectProtocolClose(client, code: 4000, tcpReason: "protocolError", sourceLocation: sourceLocation)
        let session = try await h.wait(c.sessionId, state: "grace", sourceLocation: sourceLocation)
        #expect(session["lastCause"].string == "error", sourceLocation: sourceLocation)
    }

    /// A fresh connection sends `json` first; closed with 4000 / `protocolError`.
    static func protocolErrorBeforeHello(
        _ h: PlaneHarness, _ wire: Wire, json: String, frameType: UInt8 = 3,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let client = try await h.connect(wire)
        let type = wire == .tcp && json.contains(#""hello""#) ? FrameType.hello.rawValue : frameType
        try? await client.send(json: json, frameType: type)
        await expectProtocolClose(client, code: 4000, tcpReason: "protocolError", sourceLocation: sourceLocation)
    }

    /// A second hello on a welcomed connection: 4000 / `protocolError`.
    static func secondHello(_ h: PlaneHarness, _ wire: Wire) async throws {
        let (client, c) = try await attached(h, wire)
        try? await client.send(.hello(.token(c.token)))
        await expectProtocolClose(client, code: 4000, tcpReason: "protocolError")
        try await expectGrace(h, c)
    }

    /// Pings far faster than 50 a second: closed with 4029 / `rateLimited` once the burst of 100 (and what
    /// refilled meanwhile) is used.
    static func flood(_ h: PlaneHarness, _ wire: Wire) async throws {
        let (client, c) = try await attached(h, wire)
        var seq: UInt64 = 0
        await flood(
            client, answered: { client.inbox.messages("pong").count },
            send: { count in
                let pings = (0..<count).map { _ in
                    seq += 1
                    return ClientMessage.ping(seq: seq, t: 0)
                }
                try? await client.send(batch: pings)
            })
        await expectProtocolClose(client, code: 4029, tcpReason: "rateLimited")
        // The burst was served first.
        let pongs = client.inbox.messages("pong").count
        #expect(pongs >= 90 && pongs < 400, "pongs \(pongs)")
        try await expectGrace(h, c)
    }

    /// Sends messages (with `send(count)`) in nine confirmed batches of 10, then one by one, each sent as soon as
    /// the previous is answered, until the server closes. The message that crosses the limit is always the last
    /// one sent, so the server has read all input when it closes: a close with unread input is a reset, which
    /// can overtake the close frame or kick at the client (see the report).
    static func flood(
        _ client: any ClientConnection, answered: () -> Int, send: (Int) async -> Void
    ) async {
        var sent = 0
        while !client.inbox.isClosed && sent < 400 {
            let count = sent < 90 ? 10 : 1
            await send(count)
            sent += count
            let target = sent
            _ = await eventually(every: .milliseconds(1)) { answered() >= target || client.inbox.isClosed }
        }
    }

    /// A hello with a token the server never signed: `kick` badToken, 4001.
    static func refusedToken(_ h: PlaneHarness, _ wire: Wire, token: String) async throws {
        let client = try await h.connect(wire)
        #expect(try await client.hello(token: token) == nil)
        await expectKick(client, reason: "badToken", code: 4001)
    }

    /// A resume token replayed after the one that replaced it was used too: refused (4001) every time, the
    /// live connection unharmed. (The token just spent may be retried for a short while, in case its welcome
    /// was lost: ClientProtocolTests.)
    static func replayedResumeToken(_ h: PlaneHarness, _ wire: Wire) async throws {
        let (first, c) = try await attached(h, wire)
        let resumeToken = try #require(first.inbox.messages("welcome").last?["resumeToken"].string)
        let second = try await h.connect(wire)
        let next = try #require(try await second.resume(resumeToken)?["resumeToken"].string)
        await expectKick(first, reason: "replaced", code: 4002)
        let third = try await h.connect(wire)
        #expect(try await third.resume(next)?["epoch"].int == 3)
        await expectKick(second, reason: "replaced", code: 4002)
        for _ in 0..<3 {
            let replay = try await h.connect(wire)
            #expect(try await replay.resume(resumeToken) == nil)
            await expectKick(replay, reason: "badToken", code: 4001)
        }
        #expect(try await third.ping(seq: 1) != nil)
        #expect(try await h.get(c.sessionId)["state"].string == "connected")
    }

    /// The token with its signature changed.
    static func tamper(_ token: String) -> String {
        var chars = Array(token)
        let i = chars.count - 3
        chars[i] = chars[i] == "A" ? "B" : "A"
        return String(chars)
    }
}

/// A small deterministic generator (SplitMix64), so "random" input is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
