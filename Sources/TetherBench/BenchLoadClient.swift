import NIOCore
import TetherProtocol

/// What a worker's controller hears from its load clients (on the worker's one event loop).
protocol LoadClientDelegate: AnyObject {
    /// The client's `welcome` arrived: it is live.
    func welcomed(_ client: LoadClient)
    /// A `pong` arrived (`seq`, `st` only read when ``LoadClient/readsPongFields`` is set).
    func ponged(_ client: LoadClient, seq: UInt64, st: Int64)
    /// A `kick` arrived.
    func kicked(_ client: LoadClient)
    /// A queued client's `queued` or `offered` message arrived after its first (``LoadClient/queueToken``).
    func pushed(_ client: LoadClient)
    /// The connection closed (or never opened).
    func closed(_ client: LoadClient)
}

/// One load client connection, WebSocket or TCP frames, speaking the client protocol from bytes it writes
/// and parses itself (no NIOWebSocket, no Foundation): upgrade, hello, pings, answers to server pings (unless
/// silent), kicks. Confined to the worker's event loop.
final class LoadClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase { case connecting, upgrading, awaitingWelcome, live, closed }

    /// Index in the worker's client list.
    let index: Int
    let sessionId: String
    let token: String
    let websocket: Bool
    let port: Int
    private unowned let delegate: any LoadClientDelegate
    private var context: ChannelHandlerContext?
    private(set) var phase = Phase.connecting
    private var pending: ByteBuffer?

    /// Whether server pings (WebSocket ping frames, TCP `ping`) are answered, as a browser or SDK would.
    var answersPings = true
    /// Whether the token is a queue token: the hello says `queueToken`, the first `queued` (or `offered`)
    /// message counts as the welcome, and the later ones as pushes.
    var queueToken = false
    /// Pushes received (a queued client's `queued` and `offered` after its first).
    var pushes = 0
    /// Wall ms of the last push (or of the first message).
    var lastPushMs: Double = 0
    /// The shortest time between two messages of a queued client (ms).
    var minPushGapMs = Double.infinity
    /// Whether pongs are parsed for `seq` and `st`.
    var readsPongFields = false
    /// The last `seq` sent.
    private(set) var seq: UInt64 = 0
    /// Monotonic ns of the last ping sent.
    private(set) var lastPingNs: UInt64 = 0
    /// Wall ms of the last ping sent.
    private(set) var lastPingWallMs: Double = 0
    /// Wall ms when a kick arrived, and its reason.
    private(set) var kickMs: Double?
    private(set) var kickReason: String?
    /// Wall ms when the connection closed.
    private(set) var closedMs: Double?
    /// Scratch for the controller (e.g. a ping timer, the last ping's seq).
    var timer: Scheduled<Void>?
    var repeated: RepeatedTask?
    var mark: UInt64 = 0
    var markSt: Int64?

    /// The resume token of the last `welcome` (a `storm` client comes back with it).
    private(set) var resumeToken: String?
    /// Whether the hello resumes with ``resumeToken`` instead of presenting the client token.
    private let resumes: Bool
    /// The `retryAfterMs` of the kick, if it had one.
    private(set) var kickRetryAfterMs: Int64?
    /// The session's grace window, from the last welcome (a `storm` client plans its returns within it).
    var graceMs: Int64?
    /// Whether this connection was welcomed.
    private(set) var welcomedOnce = false

    init(
        index: Int, sessionId: String, token: String, websocket: Bool, port: Int, delegate: any LoadClientDelegate,
        resumeToken: String? = nil
    ) {
        self.index = index
        self.sessionId = sessionId
        self.token = token
        self.resumeToken = resumeToken
        self.resumes = resumeToken != nil
        self.websocket = websocket
        self.port = port
        self.delegate = delegate
    }

    /// The connect failed.
    func failedToConnect() {
        phase = .closed
        closedMs = BenchProc.wallMs()
        delegate.closed(self)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        if websocket {
            phase = .upgrading
            let request =
                "GET /v1/connect HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        } else {
            sendHello()
        }
        context.fireChannelActive()
    }

    private func sendHello() {
        phase = .awaitingWelcome
        if resumes, let resumeToken {
            return sendMessage(type: 1, json: #"{"type":"hello","resumeToken":"\#(resumeToken)"}"#)
        }
        let key = queueToken ? "queueToken" : "token"
        sendMessage(type: 1, json: #"{"type":"hello","\#(key)":"\#(token)"}"#)
    }

    // MARK: Sending

    /// Sends `{"type":"ping","seq":…,"t":…}` in one buffer.
    func sendPing() {
        guard let context, phase == .live else { return }
        seq += 1
        lastPingNs = BenchProc.monotonicNs()
        lastPingWallMs = BenchProc.wallMs()
        var out = context.channel.allocator.buffer(capacity: 64)
        let headerAt = out.writerIndex
        if websocket {
            out.writeInteger(UInt32(0))  // 0x81, length, and the first two bytes of the key, patched below
            out.writeInteger(UInt16(0))
        } else {
            out.writeInteger(UInt32(0))
            out.writeInteger(UInt8(3))
        }
        let bodyAt = out.writerIndex
        BenchWire.writePing(seq: seq, t: Int64(lastPingWallMs), into: &out)
        let n = out.writerIndex - bodyAt
        if websocket {
            precondition(n < 126, "ping over 125 bytes")
            out.setInteger(UInt8(0x80 | BenchWire.Opcode.text), at: headerAt)
            out.setInteger(UInt8(0x80 | n), at: headerAt + 1)
        } else {
            out.setInteger(UInt32(n + 1), at: headerAt)
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    /// Sends `bye`.
    func sendBye() { sendMessage(type: 6, json: #"{"type":"bye"}"#) }

    private func sendMessage(type: UInt8, json: String) {
        guard let context else { return }
        let payload = context.channel.allocator.buffer(string: json)
        var out = context.channel.allocator.buffer(capacity: payload.readableBytes + 16)
        if websocket {
            BenchWire.writeWebSocketFrame(opcode: BenchWire.Opcode.text, payload: payload, into: &out)
        } else {
            BenchWire.writeTCPFrame(type: type, payload: payload, into: &out)
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    /// Closes the connection.
    func close() { context?.close(promise: nil) }

    // MARK: Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if pending == nil {
            pending = incoming
        } else {
            pending!.writeBuffer(&incoming)
        }
        do {
            try drain(context: context)
        } catch {
            context.close(promise: nil)
        }
        if pending?.readableBytes == 0 { pending = nil }
        sendPongs(context: context)
    }

    /// Writes the pongs of the read just drained, after every frame of it was handled, and none when it brought
    /// a kick: a write that fails (the server closed for good after kicking a stalled client) makes NIO close the
    /// channel at once, and the frames after the ping in the same read, the kick among them, would be lost (the
    /// Swift SDK does the same, with the same ``PendingPongs``).
    private func sendPongs(context: ChannelHandlerContext) {
        let due = pongs.take()
        guard !due.isEmpty, phase != .closed else { return }
        for frame in due { context.write(wrapOutboundOut(frame), promise: nil) }
        context.flush()
    }

    /// Pongs to write once the read is handled.
    private var pongs = PendingPongs<ByteBuffer>()

    private func drain(context: ChannelHandlerContext) throws {
        while var buffer = pending, buffer.readableBytes > 0, phase != .closed {
            if phase == .upgrading {
                let view = buffer.readableBytesView
                guard let end = view.firstRange(of: [13, 10, 13, 10]) else { return }
                let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
                guard head.hasPrefix("HTTP/1.1 101") else { throw BenchWire.Malformed(what: "upgrade refused") }
                buffer.moveReaderIndex(to: end.upperBound)
                pending = buffer
                sendHello()
                continue
            }
            if websocket {
                guard let frame = try BenchWire.readWebSocketFrame(&buffer) else { return }
                pending = buffer
                switch frame.opcode {
                case BenchWire.Opcode.text, 0x2:
                    message(frame.payload, context: context)
                case BenchWire.Opcode.ping:
                    if answersPings {
                        var out = context.channel.allocator.buffer(capacity: frame.payload.readableBytes + 8)
                        BenchWire.writeWebSocketFrame(opcode: BenchWire.Opcode.pong, payload: frame.payload, into: &out)
                        pongs.add(out)
                    }
                case BenchWire.Opcode.close:
                    context.close(promise: nil)
                    return
                default:
                    break
                }
            } else {
                guard let frame = try BenchWire.readTCPFrame(&buffer) else { return }
                pending = buffer
                message(frame.payload, context: context)
            }
        }
    }

    private func message(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        let view = payload.readableBytesView
        let type: Substring
        if view.starts(with: Self.pongPrefix) {
            type = "pong"
        } else {
            type = JSONScan.string("type", in: view).map { Substring($0) } ?? ""
        }
        switch type {
        case "pong":
            if readsPongFields {
                let seq = JSONScan.integer("seq", in: view).map { UInt64(max(0, $0)) } ?? 0
                delegate.ponged(self, seq: seq, st: JSONScan.integer("st", in: view) ?? 0)
            } else {
                delegate.ponged(self, seq: 0, st: 0)
            }
        case "welcome":
            phase = .live
            resumeToken = JSONScan.string("resumeToken", in: view) ?? resumeToken
            graceMs = JSONScan.integer("reconnectGraceMs", in: view) ?? graceMs
            welcomedOnce = true
            delegate.welcomed(self)
        case "queued", "offered":
            let now = BenchProc.wallMs()
            if phase != .live {
                phase = .live
                lastPushMs = now
                delegate.welcomed(self)
                return
            }
            pushes += 1
            minPushGapMs = min(minPushGapMs, now - lastPushMs)
            lastPushMs = now
            delegate.pushed(self)
        case "ping":  // a TCP server ping
            guard answersPings else { return }
            let seq = JSONScan.integer("seq", in: view).map { UInt64(max(0, $0)) } ?? 0
            let t = JSONScan.integer("t", in: view) ?? 0
            var body = context.channel.allocator.buffer(capacity: 48)
            BenchWire.writePong(seq: seq, t: t, into: &body)
            var out = context.channel.allocator.buffer(capacity: 64)
            BenchWire.writeTCPFrame(type: 4, payload: body, into: &out)
            pongs.add(out)
        case "kick":
            pongs.ended()
            if kickMs == nil {
                kickMs = BenchProc.wallMs()
                kickReason = JSONScan.string("reason", in: view)
                kickRetryAfterMs = JSONScan.integer("retryAfterMs", in: view)
                delegate.kicked(self)
            }
        default:
            break
        }
    }

    private static let pongPrefix = Array(#"{"type":"pong""#.utf8)

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closed
        closedMs = BenchProc.wallMs()
        timer?.cancel()
        repeated?.cancel()
        self.context = nil
        delegate.closed(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
