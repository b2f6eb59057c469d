import NIOCore
import NIOPosix

/// A keep-alive HTTP/1.1 client connection on raw SwiftNIO: requests go out as bytes, replies come back
/// in order. Optionally streams one response's body (an event stream) to a callback instead.
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
        on loop: any EventLoop, port: Int, apiKey: String, sourceIP: String? = nil
    ) -> EventLoopFuture<BenchHTTPConnection> {
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
        if let sourceIP, let address = try? SocketAddress(ipAddress: sourceIP, port: 0) {
            bootstrap = bootstrap.bind(to: address)
        }
        return bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler()) }
        }
        .connect(host: "127.0.0.1", port: port)
        .flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: Handler.self)
            return BenchHTTPConnection(channel: channel, handler: handler, apiKey: apiKey)
        }
    }

    /// Sends a request; the future completes with the reply (or fails when the connection closes first).
    func request(
        _ method: String, _ path: String, body: String? = nil, accept: String = "application/json"
    ) -> EventLoopFuture<HTTPReply> {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HTTPReply.self)
        var head =
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(apiKey)\r\nAccept: \(accept)\r\n"
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            head += "\r\n"
        }
        let bytes = head
        loop.execute { [self] in
            handler.waiting.append((promise, method == "HEAD"))
            channel.writeAndFlush(channel.allocator.buffer(string: bytes), promise: nil)
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

    /// Parses replies and completes the waiting requests in order.
    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        var waiting: [(EventLoopPromise<HTTPReply>, Bool)] = []
        var streamBody: (([UInt8]) -> Void)?
        private var parser = HTTPResponseParser()
        private var current: HTTPReply?
        private var streaming = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            parser.expectNoBody = waiting.first?.1 ?? false
            do {
                for part in try parser.feed(buffer.readableBytesView) { take(part) }
            } catch {
                failAll(error)
                context.close(promise: nil)
            }
        }

        private func take(_ part: HTTPResponseParser.Part) {
            switch part {
            case .head(let status, let headers):
                current = HTTPReply(status: status, headers: headers, body: [])
                if streamBody != nil {
                    if headers["content-type"]?.hasPrefix("text/event-stream") == true, !waiting.isEmpty {
                        // The head answers the stream request; the body keeps flowing to the callback.
                        waiting.removeFirst().0.succeed(HTTPReply(status: status, headers: headers, body: []))
                        streaming = true
                    } else {
                        streamBody = nil  // not a stream: an ordinary reply
                    }
                }
            case .body(let bytes):
                if streaming {
                    streamBody?(bytes)
                } else {
                    current?.body.append(contentsOf: bytes)
                }
            case .end:
                if streaming {
                    streaming = false
                    streamBody = nil
                } else if let reply = current, !waiting.isEmpty {
                    waiting.removeFirst().0.succeed(reply)
                }
                current = nil
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            for part in parser.finish() { take(part) }
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
            for (promise, _) in all { promise.fail(error) }
        }
    }
}
