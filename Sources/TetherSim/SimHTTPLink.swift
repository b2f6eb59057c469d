import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TetherClient

/// An HTTP heartbeat client of one simulated user: `POST /v1/heartbeat` with the client token on one
/// keep-alive connection (opened again when the server closed it), one request at a time.
actor SimHTTPLink {
    /// A heartbeat's answer.
    struct Answer: Sendable {
        var status: Int
        var body: String
        /// When the request was handed to the socket (Unix ms).
        var sentMs: Double
    }

    private let host: String
    private let port: Int
    private let path: String
    private let token: String
    private let localAddress: SocketAddress?
    private let group: any EventLoopGroup
    /// The TLS of an `https://` URL; nil for `http://`.
    private let tls: TetherTLS?
    private var channel: (any Channel)?

    /// A link to CreateSession's `connect.http` URL (`http://`, or `https://` spoken with `tls`).
    init?(
        url: String, token: String, localAddress: SocketAddress?, group: any EventLoopGroup,
        requestTimeout: Duration = .seconds(5), tls: TetherTLS = .system
    ) {
        self.requestTimeout = requestTimeout
        guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https",
            let host = parsed.host
        else { return nil }
        self.host = host
        self.tls = parsed.scheme == "https" ? tls : nil
        port = parsed.port ?? (self.tls == nil ? 80 : 443)
        path = parsed.path.isEmpty ? "/v1/heartbeat" : parsed.path
        self.token = token
        self.localAddress = localAddress
        self.group = group
    }

    /// The longest a heartbeat may wait for its answer: past it the connection is closed and the heartbeat
    /// fails (a server that died with the request in flight, or one that accepted the connection but never
    /// reads it), so the client goes on with its next heartbeat on a new connection.
    let requestTimeout: Duration

    /// Sends one message (`ping`, `suspend` or `bye` JSON); the answer, or an error within
    /// ``requestTimeout`` (connecting included).
    func post(_ json: Data) async throws -> Answer {
        let channel = try await open()
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Authorization", value: "Bearer \(token)")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(json.count))
        let promise = channel.eventLoop.makePromise(of: Answer.self)
        let limit = requestTimeout
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(limit)) {
            promise.fail(SimHTTPTimeout(after: limit))
            channel.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        let request = HTTPExchange(
            head: HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers),
            body: ByteBuffer(bytes: json), promise: promise)
        channel.writeAndFlush(request, promise: nil)
        do {
            return try await promise.futureResult.get()
        } catch {
            self.channel = nil
            channel.close(promise: nil)
            throw error
        }
    }

    /// Closes the connection.
    func close() {
        channel?.close(promise: nil)
        channel = nil
    }

    private func open() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        var bootstrap = ClientBootstrap(group: group).connectTimeout(TimeAmount(requestTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
        if let localAddress { bootstrap = bootstrap.bind(to: localAddress) }
        let tls = tls
        let host = host
        if let tls { _ = try tls.sslContext() }
        let channel = try await bootstrap.connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls { try channel.pipeline.syncOperations.addHandler(tls.makeClientHandler(host: host)) }
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(HTTPExchangeHandler())
                return channel
            }
        }
        self.channel = channel
        return channel
    }
}

/// A heartbeat that got no answer in time.
struct SimHTTPTimeout: Error, CustomStringConvertible {
    var after: Duration
    var description: String { "no answer within \(after)" }
}

/// One request and where its answer goes.
struct HTTPExchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var promise: EventLoopPromise<SimHTTPLink.Answer>
}

/// Writes ``HTTPExchange``s and completes their promises with the answers, in order.
final class HTTPExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPExchange
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting: [(promise: EventLoopPromise<SimHTTPLink.Answer>, sentMs: Double)] = []
    private var status = 0
    private var body = ""

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        waiting.append((exchange.promise, SimLedger.nowMs()))
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(exchange.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body = ""
        case .body(let buffer):
            body += String(buffer: buffer)
        case .end:
            guard !waiting.isEmpty else { return }
            let (promise, sentMs) = waiting.removeFirst()
            promise.succeed(SimHTTPLink.Answer(status: status, body: body, sentMs: sentMs))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let pending = waiting
        waiting = []
        for (promise, _) in pending { promise.fail(ChannelError.ioOnClosedChannel) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
