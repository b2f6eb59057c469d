import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A keep-alive HTTP/1.1 client connection on SwiftNIO's HTTP/1 client pipeline (`HTTPRequestEncoder` and
/// `HTTPResponseDecoder`): replies come back in order. Optionally streams one response's body (an event
/// stream) to a callback instead.
///
/// Confined to its channel's event loop except ``request(_:_:body:accept:)``, which hops there.
final class BenchHTTPConnection: @unchecked Sendable {
    let channel: any Channel
    private let handler: Handler
    let apiKey: String

    private init(channel: any Channel, handler: Handler, apiKey: String) {
        self.channel = channel
        self.handler = handler
        self.apiKey = apiKey
    }

    /// Connects to `127.0.0.1:port`, from `sourceIP` when given.
    static func connect(
        on loop: any EventLoop, port: Int, apiKey: String, sourceIP: String? = nil, tls: NIOSSLContext? = nil
    ) -> EventLoopFuture<BenchHTTPConnection> {
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(BenchAddress.bindAddressNoPort, value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
        if let sourceIP, let address = try? SocketAddress(ipAddress: sourceIP, port: 0) {
            bootstrap = bootstrap.bind(to: address)
        }
        return bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: tls, serverHostname: nil))
                }
                try addHandlers(to: channel)
            }
        }
        .connect(to: BenchAddress.loopback(port: port))
        .flatMapThrowing { channel in try over(channel, apiKey: apiKey) }
    }

    /// Adds NIO's HTTP/1 client handlers and the reply collector to `channel`. Call on its event loop.
    static func addHandlers(to channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHTTPClientHandlers()
        try channel.pipeline.syncOperations.addHandler(Handler())
    }

    /// The connection over a channel set up by ``addHandlers(to:)``. Call on its event loop.
    static func over(_ channel: any Channel, apiKey: String) throws -> BenchHTTPConnection {
        let handler = try channel.pipeline.syncOperations.handler(type: Handler.self)
        return BenchHTTPConnection(channel: channel, handler: handler, apiKey: apiKey)
    }

    /// Sends a request; the future completes with the reply, or fails when the connection closes first, or
    /// when no reply (for a stream: no head) came within `timeout`, which closes the connection.
    func request(
        _ method: String, _ path: String, body: String? = nil, accept: String = "application/json",
        timeout: TimeAmount = .seconds(30)
    ) -> EventLoopFuture<HTTPReply> {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HTTPReply.self)
        let channel = self.channel
        let timer = loop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        let method = HTTPMethod(rawValue: method)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1")
        head.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        head.headers.add(name: "Accept", value: accept)
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        } else if method == .POST || method == .PUT || method == .PATCH {
            head.headers.add(name: "Content-Length", value: "0")  // not chunked: the request has no body
        }
        let requestHead = head
        loop.execute { [self] in
            // A connection that has closed answers nothing: its handler already failed what was waiting.
            guard channel.isActive else { return promise.fail(ChannelError.ioOnClosedChannel) }
            handler.waiting.append(promise)
            channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
            if let body {
                channel.write(
                    HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(string: body))), promise: nil)
            }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        return promise.futureResult
    }

    /// Sends a GET whose response body, when it is `text/event-stream`, is handed to `onBody` as it arrives;
    /// the future then gives the head only. Any other response completes the future as usual. Nothing else
    /// may be sent on this connection meanwhile. Call on the connection's event loop.
    func stream(
        _ path: String, accept: String, onBody: @escaping ([UInt8]) -> Void
    ) -> EventLoopFuture<HTTPReply> {
        channel.eventLoop.assertInEventLoop()
        handler.streamBody = onBody
        return request("GET", path, accept: accept)
    }

    /// Closes the connection.
    func close() { channel.close(promise: nil) }

    /// Collects the decoder's response parts and completes the waiting requests in order.
    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        var waiting: [EventLoopPromise<HTTPReply>] = []
        var streamBody: (([UInt8]) -> Void)?
        private var current: HTTPReply?
        private var streaming = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                var headers: [String: String] = [:]
                for (name, value) in head.headers {
                    let key = name.lowercased()
                    headers[key] = headers[key].map { "\($0), \(value)" } ?? value
                }
                let status = Int(head.status.code)
                current = HTTPReply(status: status, headers: headers, body: [])
                if streamBody != nil {
                    if headers["content-type"]?.hasPrefix("text/event-stream") == true, !waiting.isEmpty {
                        // The head answers the stream request; the body keeps flowing to the callback.
                        waiting.removeFirst().succeed(HTTPReply(status: status, headers: headers, body: []))
                        streaming = true
                    } else {
                        streamBody = nil  // not a stream: an ordinary reply
                    }
                }
            case .body(let buffer):
                if streaming {
                    streamBody?(Array(buffer.readableBytesView))
                } else {
                    current?.body.append(contentsOf: buffer.readableBytesView)
                }
            case .end:
                if streaming {
                    streaming = false
                    streamBody = nil
                } else if let reply = current, !waiting.isEmpty {
                    waiting.removeFirst().succeed(reply)
                }
                current = nil
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            failAll(ChannelError.ioOnClosedChannel)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            failAll(error)
            context.close(promise: nil)
        }

        private func failAll(_ error: any Error) {
            let all = waiting
            waiting = []
            for promise in all { promise.fail(error) }
        }
    }
}

/// A complete response.
struct HTTPReply: Sendable {
    /// The status code.
    var status: Int
    /// Headers, names lowercased (repeated ones joined with `, `).
    var headers: [String: String]
    /// The body.
    var body: [UInt8]

    /// The body as text.
    var text: String { String(decoding: body, as: UTF8.self) }
}
