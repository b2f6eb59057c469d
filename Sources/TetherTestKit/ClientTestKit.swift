import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization
import Testing
import TetherProtocol
import TetherServer

#if canImport(Glibc)
    import Glibc
#endif

// Raw clients of the client plane (WebSocket, TCP frames, HTTP heartbeats) written on SwiftNIO directly, and
// a harness that starts a live server with the client plane on and makes projects and sessions for them.

// MARK: - Polling

/// Polls `condition` until it holds or `timeout` passes; `true` when it held.
///
/// An attempt that started before the deadline but ended after it is followed by one more, at once: on a
/// loaded 2-core machine the test process itself can stall past the whole window (tests that block a thread
/// of Swift's cooperative pool hold up every other test's tasks), and a condition read only before the stall
/// says nothing of the server. (ClusterFaultTests' readiness probe once saw one `200` in 20 s so.)
public func eventually(
    within timeout: Duration = .seconds(5), every interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var lastChance = false
    while true {
        let started = clock.now
        if try await condition() { return true }
        if clock.now >= deadline {
            guard started < deadline, !lastChance else { return false }
            lastChance = true
            continue
        }
        try? await Task.sleep(for: interval)
    }
}

// MARK: - What a client received

/// Everything a test client received, shared between its channel handler (on the event loop) and the test.
public final class ClientInbox: Sendable {
    /// One message from the server.
    public struct Message: Sendable {
        /// The TCP frame type byte (nil on WebSocket).
        public var frameType: UInt8?
        /// The raw text.
        public var text: String
        /// The decoded JSON (`.null` when it was not JSON).
        public var json: JSONValue
        /// The `type` field.
        public var type: String? { json["type"].string }
    }

    public struct State: Sendable {
        public var messages: [Message] = []
        /// The code of the WebSocket close frame received (1005 when it carried none).
        public var closeCode: UInt16?
        public var closeReason: String?
        /// The connection is gone.
        public var closed = false
        /// WebSocket ping frames (or TCP `ping` messages) from the server.
        public var serverPings = 0
        /// WebSocket pong frames from the server.
        public var pongFrames = 0
        public var errors: [String] = []
    }

    public let state = Mutex(State())

    public func received(_ text: String, frameType: UInt8? = nil) {
        let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
        state.withLock { $0.messages.append(Message(frameType: frameType, text: text, json: json)) }
    }

    public func closeFrame(code: UInt16?, reason: String?) {
        state.withLock {
            if $0.closeCode == nil {
                $0.closeCode = code ?? 1005
                $0.closeReason = reason
            }
        }
    }

    public func serverPing() { state.withLock { $0.serverPings += 1 } }
    public func pongFrame() { state.withLock { $0.pongFrames += 1 } }
    public func markClosed() { state.withLock { $0.closed = true } }
    public func error(_ error: any Error) { state.withLock { $0.errors.append("\(error)") } }

    public var snapshot: State { state.withLock { $0 } }
    public var messages: [Message] { state.withLock { $0.messages } }
    public var closeCode: UInt16? { state.withLock { $0.closeCode } }
    public var isClosed: Bool { state.withLock { $0.closed } }
    public var serverPings: Int { state.withLock { $0.serverPings } }
    public var pongFrames: Int { state.withLock { $0.pongFrames } }

    /// The messages of one type, in order.
    public func messages(_ type: String) -> [Message] { messages.filter { $0.type == type } }

    /// Waits for the `index`-th message of `type` (or the first that `matching` accepts).
    public func wait(
        for type: String, index: Int = 0, within timeout: Duration = .seconds(5),
        matching: @Sendable (JSONValue) -> Bool = { _ in true }
    ) async -> Message? {
        var found: Message?
        _ = await eventually(within: timeout) {
            let all = messages(type).filter { matching($0.json) }
            if all.count > index { found = all[index] }
            return found != nil
        }
        return found
    }

    /// Waits until the connection is gone.
    public func waitClosed(within timeout: Duration = .seconds(5)) async -> Bool {
        await eventually(within: timeout) { isClosed }
    }

    /// Waits until a welcome arrives or the connection closes.
    public func waitWelcome(within timeout: Duration = .seconds(5)) async -> JSONValue? {
        var welcome: JSONValue?
        _ = await eventually(within: timeout) {
            welcome = messages("welcome").last?.json
            return welcome != nil || isClosed
        }
        return welcome
    }
}

// MARK: - Clients

/// A transport of the client channel.
public enum Wire: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case websocket, tcp
    public var testDescription: String { rawValue }
    /// How the session shows it.
    public var transportName: String { rawValue }
}

/// A raw client connection, WebSocket or TCP.
public protocol ClientConnection: Sendable {
    var wire: Wire { get }
    var inbox: ClientInbox { get }
    var channel: any Channel { get }
    /// Sends a message (a text message, or a frame of the message's type).
    func send(_ message: ClientMessage) async throws
    /// Sends JSON text as it is (on TCP in a frame of `frameType`).
    func send(json: String, frameType: UInt8) async throws
    /// Sends several messages in one write (so the server reads them together).
    func send(batch messages: [ClientMessage]) async throws
}

extension ClientConnection {
    /// Sends `hello` with the client token; the welcome, or nil when the server closed instead.
    public func hello(token: String) async throws -> JSONValue? {
        try await send(.hello(.token(token)))
        return await inbox.waitWelcome()
    }

    /// Sends `hello` with a resume token; the welcome, or nil when the server closed instead (or sent nothing
    /// within `timeout`).
    public func resume(_ resumeToken: String, within timeout: Duration = .seconds(5)) async throws -> JSONValue? {
        let before = inbox.messages("welcome").count
        try await send(.hello(.resumeToken(resumeToken)))
        var welcome: JSONValue?
        _ = await eventually(within: timeout) {
            let all = inbox.messages("welcome")
            if all.count > before { welcome = all.last?.json }
            return welcome != nil || inbox.isClosed
        }
        return welcome
    }

    /// Sends `ping` and waits for its `pong`.
    @discardableResult
    public func ping(seq: UInt64, t: Int64 = 42) async throws -> JSONValue? {
        try await send(.ping(seq: seq, t: t))
        return await inbox.wait(for: "pong") { $0["seq"].int == Int(seq) }?.json
    }

    /// Closes the socket without any goodbye (a FIN, no close frame, no `bye`).
    public func abort() async {
        try? await channel.close()
    }

    /// Resets the connection (SO_LINGER 0: an RST instead of a FIN).
    public func reset() async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close()
    }
}

/// A WebSocket client: masked frames out, every server message, ping and close into its inbox.
public struct WebSocketTestClient: ClientConnection {
    public let wire = Wire.websocket
    public let inbox: ClientInbox
    public let channel: any Channel

    public enum Upgrade: Sendable {
        case upgraded(any Channel)
        case refused(any Channel)
    }

    public struct NotUpgraded: Error {}

    /// Connects to `ws://127.0.0.1:port/v1/connect`. A client that does not `answerPings` never sends pong
    /// frames (a silent, stuck client); `origin` is sent as the upgrade's `Origin` header (as a browser does).
    public static func connect(
        port: Int, path: String = "/v1/connect", answerPings: Bool = true, origin: String? = nil
    ) async throws -> WebSocketTestClient {
        let inbox = ClientInbox()
        let upgrade: EventLoopFuture<Upgrade> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(
                        maxFrameSize: 1 << 20, enableAutomaticErrorHandling: false,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(RawBytesInjector(), position: .first)
                                try channel.pipeline.syncOperations.addHandler(
                                    WebSocketInboxHandler(inbox: inbox, answerPings: answerPings))
                                return Upgrade.upgraded(channel)
                            }
                        })
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "127.0.0.1:\(port)")
                    headers.add(name: "Content-Length", value: "0")
                    if let origin { headers.add(name: "Origin", value: origin) }
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    var configuration = NIOUpgradableHTTPClientPipelineConfiguration(
                        upgradeConfiguration: NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                            upgradeRequestHead: head, upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in
                                channel.eventLoop.makeSucceededFuture(.refused(channel))
                            }))
                    configuration.leftOverBytesStrategy = .forwardBytes
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: configuration)
                }
            }
        switch try await upgrade.get() {
        case .upgraded(let channel):
            return WebSocketTestClient(inbox: inbox, channel: channel)
        case .refused(let channel):
            try? await channel.close()
            throw NotUpgraded()
        }
    }

    public func send(_ message: ClientMessage) async throws {
        try await send(frame: .text, ByteBuffer(bytes: message.json))
    }

    public func send(json: String, frameType: UInt8 = 0) async throws {
        try await send(frame: .text, ByteBuffer(string: json))
    }

    public func send(batch messages: [ClientMessage]) async throws {
        for message in messages.dropLast() {
            channel.write(
                WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: message.json)),
                promise: nil)
        }
        if let last = messages.last { try await send(last) }
    }

    /// Sends one masked frame.
    public func send(frame opcode: WebSocketOpcode, _ data: ByteBuffer, fin: Bool = true) async throws {
        try await channel.writeAndFlush(WebSocketFrame(fin: fin, opcode: opcode, maskKey: .random(), data: data))
    }

    /// Writes bytes as they are, below the frame encoder (frames no encoder would make).
    public func send(raw: ByteBuffer) async throws {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.triggerUserOutboundEvent(RawBytesInjector.Bytes(buffer: raw), promise: promise)
        try await promise.futureResult.get()
    }

    /// The header of a masked client frame declaring `length` bytes of payload (the payload is not included).
    public static func frameHeader(opcode: WebSocketOpcode, length: UInt64, fin: Bool = true) -> ByteBuffer {
        var header = ByteBuffer()
        header.writeInteger(UInt8(fin ? 0x80 : 0) | UInt8(webSocketOpcode: opcode))
        switch length {
        case 0..<126:
            header.writeInteger(UInt8(0x80) | UInt8(length))
        case 126...0xFFFF:
            header.writeInteger(UInt8(0x80 | 126))
            header.writeInteger(UInt16(length))
        default:
            header.writeInteger(UInt8(0x80 | 127))
            header.writeInteger(length)
        }
        header.writeBytes([0x11, 0x22, 0x33, 0x44])  // the masking key
        return header
    }

    /// Sends a close frame (a clean WebSocket close, without `bye`).
    public func sendClose(code: UInt16 = 1000) async throws {
        var data = ByteBuffer()
        data.writeInteger(code)
        try await send(frame: .connectionClose, data)
    }
}

/// Sits next to the socket and writes the bytes of a `Bytes` user event as they are, past every encoder.
public final class RawBytesInjector: ChannelOutboundHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public struct Bytes: Sendable {
        public var buffer: ByteBuffer
    }

    public func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let bytes = event as? Bytes {
            context.writeAndFlush(wrapOutboundOut(bytes.buffer), promise: promise)
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }
}

/// Collects what a WebSocket server sends; answers ping frames unless told not to.
public final class WebSocketInboxHandler: ChannelInboundHandler {
    public typealias InboundIn = WebSocketFrame
    public typealias OutboundOut = WebSocketFrame

    public let inbox: ClientInbox
    public let answerPings: Bool

    public init(inbox: ClientInbox, answerPings: Bool) {
        self.inbox = inbox
        self.answerPings = answerPings
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            inbox.received(String(buffer: frame.unmaskedData))
        case .ping:
            inbox.serverPing()
            if answerPings {
                let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
                context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            }
        case .pong:
            inbox.pongFrame()
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self)
            inbox.closeFrame(code: code, reason: data.readString(length: data.readableBytes))
            context.close(promise: nil)
        default:
            break
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        inbox.markClosed()
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        inbox.error(error)
        context.close(promise: nil)
    }
}

/// A TCP frame client: `u32 length | u8 type | JSON`. Writes plain bytes, so it can also send what no
/// encoder would (a 2^31 length, a truncated frame, noise).
public struct TCPTestClient: ClientConnection {
    public let wire = Wire.tcp
    public let inbox: ClientInbox
    public let channel: any Channel

    /// Connects; a client that does not `answerPings` never answers the server's `ping` messages.
    public static func connect(port: Int, answerPings: Bool = true) async throws -> TCPTestClient {
        let inbox = ClientInbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        TCPInboxHandler(inbox: inbox, answerPings: answerPings))
                    return channel
                }
            }
        return TCPTestClient(inbox: inbox, channel: channel)
    }

    /// The bytes of one frame.
    public static func frame(type: UInt8, _ payload: some Sequence<UInt8>) -> ByteBuffer {
        var out = ByteBuffer()
        try? TCPFrameEncoder().encode(data: TCPFrame(type: type, payload: ByteBuffer(bytes: payload)), out: &out)
        return out
    }

    public func send(_ message: ClientMessage) async throws {
        try await send(raw: Self.frame(type: message.frameType.rawValue, message.json))
    }

    public func send(json: String, frameType: UInt8) async throws {
        try await send(raw: Self.frame(type: frameType, Array(json.utf8)))
    }

    public func send(batch messages: [ClientMessage]) async throws {
        var bytes = ByteBuffer()
        for message in messages {
            var frame = Self.frame(type: message.frameType.rawValue, message.json)
            bytes.writeBuffer(&frame)
        }
        try await send(raw: bytes)
    }

    /// Writes bytes as they are.
    public func send(raw: ByteBuffer) async throws {
        try await channel.writeAndFlush(raw)
    }

    /// Half-closes: no more bytes from the client.
    public func shutdownOutput() async {
        try? await channel.close(mode: .output)
    }
}

/// Collects the frames a TCP server sends; answers its `ping` messages with `pong` unless told not to.
public final class TCPInboxHandler: ChannelInboundHandler {
    public typealias InboundIn = TCPFrame
    public typealias OutboundOut = ByteBuffer

    public let inbox: ClientInbox
    public let answerPings: Bool

    public init(inbox: ClientInbox, answerPings: Bool) {
        self.inbox = inbox
        self.answerPings = answerPings
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let text = String(buffer: frame.payload)
        inbox.received(text, frameType: frame.type)
        guard frame.type == FrameType.ping.rawValue else { return }
        inbox.serverPing()
        guard answerPings,
            let json = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)),
            let seq = json["seq"].int, let t = json["t"].int
        else { return }
        let pong = ClientMessage.pong(seq: UInt64(seq), t: Int64(t))
        context.writeAndFlush(
            wrapOutboundOut(TCPTestClient.frame(type: FrameType.pong.rawValue, pong.json)), promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        inbox.markClosed()
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        inbox.error(error)
        context.close(promise: nil)
    }
}

// MARK: - HTTP heartbeats

/// One HTTP exchange with the client port (`POST /v1/heartbeat`), on a fresh connection.
public enum HeartbeatHTTP {
    public struct Reply: Sendable {
        public var status: Int
        public var text: String
        public var json: JSONValue
        /// The `X-Request-Id` header.
        public var requestId: String? = nil
        public subscript(key: String) -> JSONValue { json[key] }
    }

    public struct NoReply: Error {}

    public static func call(
        port: Int, method: HTTPMethod = .POST, path: String = "/v1/heartbeat", token: String?, body: String,
        origin: String? = nil
    ) async throws -> Reply {
        let (channel, reply) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let promise = channel.eventLoop.makePromise(of: Reply.self)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPReplyCollector(promise: promise))
                    return (channel, promise.futureResult)
                }
            }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:\(port)")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let origin { headers.add(name: "Origin", value: origin) }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        defer { channel.close(promise: nil) }
        return try await reply.get()
    }

    public static func ping(port: Int, token: String?, seq: UInt64, t: Int64 = 7, origin: String? = nil) async throws
        -> Reply
    {
        try await call(
            port: port, token: token, body: String(decoding: ClientMessage.ping(seq: seq, t: t).json, as: UTF8.self),
            origin: origin)
    }
}

/// Collects one HTTP response.
public final class HTTPReplyCollector: ChannelInboundHandler {
    public typealias InboundIn = HTTPClientResponsePart

    public let promise: EventLoopPromise<HeartbeatHTTP.Reply>
    private var status = 0
    private var requestId: String?
    private var body = ByteBuffer()
    private var done = false

    public init(promise: EventLoopPromise<HeartbeatHTTP.Reply>) { self.promise = promise }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            requestId = head.headers.first(name: "x-request-id")
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard !done else { return }
            done = true
            let text = String(buffer: body)
            let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
            promise.succeed(HeartbeatHTTP.Reply(status: status, text: text, json: json, requestId: requestId))
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(HeartbeatHTTP.NoReply())
        }
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }
}

// MARK: - The live server

/// What a test needs to give a client: the session, its token, and where to connect.
public struct Credentials: Sendable {
    public var sessionId: String
    public var userId: String
    public var concurrencyId: String
    public var epoch: Int
    public var token: String

    /// Creates credentials.
    public init(sessionId: String, userId: String, concurrencyId: String, epoch: Int, token: String) {
        self.sessionId = sessionId
        self.userId = userId
        self.concurrencyId = concurrencyId
        self.epoch = epoch
        self.token = token
    }
}

/// A live server with the client plane on (WebSocket and HTTP on a free port, TCP on a port picked free).
public final class PlaneHarness: Sendable {
    public let api: API
    public let clientPort: Int
    public let tcpPort: Int
    private let clients = Mutex<[any ClientConnection]>([])

    public init(api: API, clientPort: Int, tcpPort: Int) {
        self.api = api
        self.clientPort = clientPort
        self.tcpPort = tcpPort
    }

    /// A TCP port that was free a moment ago.
    public static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }

    /// Starts a server with TCP on, learns its ports, runs `body`, closes every client it made. With
    /// `loopLiveness` (the default, as in production), WebSocket and TCP heartbeats are recorded on their links
    /// (``TetherConfiguration/loopLiveness``); `false` sends each to the broker. With `time`, the server reads
    /// that clock instead of the wall clock (tests of timeouts move it by hand).
    public static func run(
        loopLiveness: Bool = true, time: (any TimeSource)? = nil,
        _ body: @escaping @Sendable (PlaneHarness) async throws -> Void
    ) async throws {
        let app = try await makeApplication(loopLiveness: loopLiveness, time: time)
        try await app.test(.live) { client in
            let api = API(client: client)
            // Learn the client port from a CreateSession's `connect` block.
            _ = try await api.post("/v1/projects", #"{"id":"probe","capacity":1}"#)
            _ = try await api.post("/v1/projects/probe/concurrency/apply", #"{"userId":"probe"}"#)
            let created = try await api.post("/v1/projects/probe/sessions", #"{"userId":"probe"}"#)
            let ws = try #require(created["connect"]["websocket"].string)
            let tcp = try #require(created["connect"]["tcp"].string)
            let harness = PlaneHarness(api: api, clientPort: try port(of: ws), tcpPort: try port(of: tcp))
            do {
                try await body(harness)
            } catch {
                await harness.closeAll()
                throw error
            }
            await harness.closeAll()
        }
    }

    /// Binds the client plane; retries with another TCP port if the picked one was taken meanwhile.
    private static func makeApplication(loopLiveness: Bool, time: (any TimeSource)?) async throws
        -> some ApplicationProtocol
    {
        var attempt = 0
        while true {
            var server = TestServer()
            server.tcpPort = try await freePort()
            var configuration = server.configuration()
            configuration.loopLiveness = loopLiveness
            do {
                return try await TetherServer(configuration: configuration, time: time ?? WallClock())
                    .makeApplication()
            } catch {
                attempt += 1
                if attempt >= 5 { throw error }
            }
        }
    }

    public struct BadURL: Error { var url: String }

    private static func port(of url: String) throws -> Int {
        guard let text = url.split(separator: ":").last?.split(separator: "/").first, let port = Int(text), port > 0
        else { throw BadURL(url: url) }
        return port
    }

    private func closeAll() async {
        for client in clients.withLock({ $0 }) { try? await client.channel.close() }
    }

    // MARK: Backend calls

    /// Creates a project. The defaults (1 s interval, 10 s timeout, 10 s grace) keep tests that are not about
    /// timeouts, pings or grace independent of how busy the machine is; those that are set their own.
    public func project(
        _ id: String = "p", capacity: Int = 10, intervalMs: Int = 1_000, timeoutMs: Int = 10_000, graceMs: Int = 10_000,
        extra: String = ""
    ) async throws {
        let body =
            #"{"id":"\#(id)","capacity":\#(capacity),"heartbeat":{"intervalMs":\#(intervalMs),"timeoutMs":\#(timeoutMs)},"#
            + #""reconnectGraceMs":\#(graceMs)\#(extra)}"#
        let reply = try await api.post("/v1/projects", body)
        try #require(reply.status == .created, "\(reply.text)")
    }

    /// ApplyConcurrent, then CreateSession.
    public func session(_ userId: String, project: String = "p") async throws -> Credentials {
        let applied = try await api.post("/v1/projects/\(project)/concurrency/apply", #"{"userId":"\#(userId)"}"#)
        try #require(applied.status == .ok, "\(applied.text)")
        let created = try await api.post("/v1/projects/\(project)/sessions", #"{"userId":"\#(userId)"}"#)
        try #require(created.status == .created, "\(created.text)")
        return Credentials(
            sessionId: try #require(created["sessionId"].string), userId: userId,
            concurrencyId: try #require(created["concurrencyId"].string), epoch: try #require(created["epoch"].int),
            token: try #require(created["clientToken"].string))
    }

    /// `GET /v1/sessions/{id}`.
    public func get(_ sessionId: String) async throws -> JSONValue {
        try await api.get("/v1/sessions/\(sessionId)").json
    }

    /// Polls the session until it is in `state`; returns its last reading.
    @discardableResult
    public func wait(
        _ sessionId: String, state: String, within timeout: Duration = .seconds(5),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue {
        var last = JSONValue.null
        let reached = try await eventually(within: timeout, every: .milliseconds(50)) {
            last = try await get(sessionId)
            return last["state"].string == state
        }
        #expect(
            reached, "session never reached \(state): \(last["state"]) \(last["lastCause"])",
            sourceLocation: sourceLocation)
        return last
    }

    // MARK: Clients

    /// Opens a client connection (closed at the end of the test). By default it does not answer the server's
    /// pings: the default project's 10 s timeout outlasts any test, and an answer racing a kick can change the
    /// kick's reason (see aDestroyRacingTheClientsFramesIsStillDestroyed).
    public func connect(_ wire: Wire, answerPings: Bool = false) async throws -> any ClientConnection {
        let client: any ClientConnection =
            switch wire {
            case .websocket: try await WebSocketTestClient.connect(port: clientPort, answerPings: answerPings)
            case .tcp: try await TCPTestClient.connect(port: tcpPort, answerPings: answerPings)
            }
        clients.withLock { $0.append(client) }
        return client
    }

    public func websocket(answerPings: Bool = false) async throws -> WebSocketTestClient {
        try await connect(.websocket, answerPings: answerPings) as! WebSocketTestClient
    }

    public func tcp(answerPings: Bool = false) async throws -> TCPTestClient {
        try await connect(.tcp, answerPings: answerPings) as! TCPTestClient
    }

    /// Connects and says hello; fails the test when no welcome comes.
    public func connected(_ wire: Wire, _ credentials: Credentials, answerPings: Bool = false) async throws -> (
        any ClientConnection, JSONValue
    ) {
        let client = try await connect(wire, answerPings: answerPings)
        let welcome = try #require(
            try await client.hello(token: credentials.token), "no welcome: \(client.inbox.snapshot)")
        return (client, welcome)
    }

    /// `POST /v1/heartbeat`.
    public func heartbeat(token: String?, body: String) async throws -> HeartbeatHTTP.Reply {
        try await HeartbeatHTTP.call(port: clientPort, token: token, body: body)
    }
}

// MARK: - A healthy neighbour

/// A client that pings every 100 ms in the background, to show abuse next to it changes nothing for it.
public final class Heartbeater: Sendable {
    public let client: any ClientConnection
    public let credentials: Credentials
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    public init(client: any ClientConnection, credentials: Credentials) {
        self.client = client
        self.credentials = credentials
        let task = Task { [client] in
            var seq: UInt64 = 1
            while !Task.isCancelled {
                try? await client.send(.ping(seq: seq, t: Int64(seq)))
                seq += 1
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        self.task.withLock { $0 = task }
    }

    /// Connects a fresh session of `userId` over `wire` and starts heartbeating.
    public static func start(_ harness: PlaneHarness, _ wire: Wire, userId: String = "neighbour", project: String = "p")
        async throws -> Heartbeater
    {
        let credentials = try await harness.session(userId, project: project)
        let (client, _) = try await harness.connected(wire, credentials)
        return Heartbeater(client: client, credentials: credentials)
    }

    /// Expects the neighbour still connected and still answered.
    public func expectHealthy(_ harness: PlaneHarness, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = client.inbox.messages("pong").count
        // 30 s, not the default 5: the heartbeat task runs on the test process's cooperative pool, which a
        // loaded CI machine has been seen to stall for longer (a fresh-clone run: no pong within 5 s, the
        // session still connected and the socket open).
        let answered = await eventually(within: .seconds(30)) { client.inbox.messages("pong").count >= before + 2 }
        #expect(answered, "the healthy client got no more pongs", sourceLocation: sourceLocation)
        #expect(!client.inbox.isClosed, "the healthy client was closed", sourceLocation: sourceLocation)
        let session = try await harness.get(credentials.sessionId)
        #expect(
            session["state"].string == "connected", "the healthy session is \(session["state"])",
            sourceLocation: sourceLocation)
    }

    public func stop() { task.withLock { $0?.cancel() } }

    deinit { task.withLock { $0?.cancel() } }
}

// MARK: - Expectations

/// Expects a broker kick: the `kick` message with `reason`, then (WebSocket) a close frame with `code`, and
/// the connection closed.
public func expectKick(
    _ client: any ClientConnection, reason: String, code: UInt16, sourceLocation: SourceLocation = #_sourceLocation
) async {
    let kick = await client.inbox.wait(for: "kick")
    #expect(
        kick?["reason"].string == reason, "kick: \(kick?.text ?? "none"), inbox: \(client.inbox.snapshot)",
        sourceLocation: sourceLocation)
    if client.wire == .tcp { #expect(kick?.frameType == FrameType.kick.rawValue, sourceLocation: sourceLocation) }
    #expect(await client.inbox.waitClosed(), "still open after the kick", sourceLocation: sourceLocation)
    if client.wire == .websocket {
        #expect(
            client.inbox.closeCode == code, "close code \(String(describing: client.inbox.closeCode))",
            sourceLocation: sourceLocation)
    }
}

/// Expects a protocol close: WebSocket a close frame with `code`; TCP a `kick` with `tcpReason`, then the close.
public func expectProtocolClose(
    _ client: any ClientConnection, code: UInt16, tcpReason: String, sourceLocation: SourceLocation = #_sourceLocation
) async {
    #expect(await client.inbox.waitClosed(), "still open", sourceLocation: sourceLocation)
    switch client.wire {
    case .websocket:
        #expect(
            client.inbox.closeCode == code,
            "close code \(String(describing: client.inbox.closeCode)), inbox: \(client.inbox.snapshot)",
            sourceLocation: sourceLocation)
    case .tcp:
        let kick = client.inbox.messages("kick").last
        #expect(
            kick?["reason"].string == tcpReason, "kick: \(kick?.text ?? "none"), inbox: \(client.inbox.snapshot)",
            sourceLocation: sourceLocation)
    }
}

extension ClientInbox.Message {
    public subscript(key: String) -> JSONValue { json[key] }
}

extension JSONValue {
    /// A number as a `Double`.
    public var doubleValue: Double? { if case .number(let n) = self { n } else { nil } }
}
