import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// An error answer written below the application (a malformed request, headers too large, a request too slow,
/// a refused WebSocket handshake): the API's error shape `{"error": {"code", "message", "requestId"}}`, with
/// `Connection: close`; the connection is closed once it is written (by ``HTTPConnectionGuard``).
struct HTTPRefusal: Sendable {
    /// The HTTP status.
    var status: HTTPResponseStatus
    /// The contract's code.
    var code: String
    /// A message for people.
    var message: String
    /// Extra response headers (`Sec-WebSocket-Version` on a 426).
    var headers: [(String, String)] = []

    /// 400 for a request the parser refused; 431 when its headers are too many or too large.
    static func parser(_ error: HTTPParserError) -> HTTPRefusal {
        if error == .headerOverflow {
            return HTTPRefusal(
                status: .requestHeaderFieldsTooLarge, code: "InvalidParameter.HeadersTooLarge",
                message:
                    "request headers over the limit (\(HTTPHeaderLimits.maxCount) fields, \(HTTPHeaderLimits.maxTotalBytes) bytes)"
            )
        }
        return HTTPRefusal(status: .badRequest, code: "InvalidParameter", message: "malformed HTTP request (\(error))")
    }

    /// 429: the source address already holds `limit` connections to this listener (`--max-connections-per-ip`).
    static func tooManyConnections(limit: Int) -> HTTPRefusal {
        HTTPRefusal(
            status: .tooManyRequests, code: "RequestLimitExceeded.Connections",
            message: "this address holds \(limit) connections to this port, the most it may: close one and try again",
            headers: [("retry-after", "1")])
    }

    /// 408: the request did not arrive within the read timeout.
    static func readTimeout(_ timeout: TimeAmount) -> HTTPRefusal {
        HTTPRefusal(
            status: .requestTimeout, code: "InvalidParameter.RequestTimeout",
            message: "the request did not arrive within \(timeout.nanoseconds / 1_000_000) ms")
    }

    /// The JSON body.
    func body(requestId: String) -> [UInt8] {
        struct Body: Encodable {
            struct Inner: Encodable {
                var code: String
                var message: String
                var requestId: String
            }
            var error: Inner
        }
        let body = Body(error: .init(code: code, message: message, requestId: requestId))
        return Array((try? JSONEncoder().encode(body)) ?? Data(#"{"error":{"code":"InternalError"}}"#.utf8))
    }

    /// The answer as bytes, encoded by NIOHTTP1's `HTTPResponseEncoder`: for a connection refused before any
    /// HTTP handler has seen it (``AddressCapHandler``).
    func encoded() -> ByteBuffer {
        let requestId = TetherRequestContext.makeRequestID()
        let json = body(requestId: requestId)
        let channel = EmbeddedChannel(handler: HTTPResponseEncoder())
        var out = ByteBuffer()
        do {
            try channel.writeOutbound(HTTPServerResponsePart.head(head(requestId: requestId, length: json.count)))
            try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: json))))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
            while let part = try channel.readOutbound(as: ByteBuffer.self) { out.writeImmutableBuffer(part) }
            _ = try channel.finish()
        } catch {
            return ByteBuffer()
        }
        return out
    }

    /// The response head.
    private func head(requestId: String, length: Int) -> HTTPResponseHead {
        var head = HTTPResponseHead(version: .http1_1, status: status)
        head.headers.add(name: "content-type", value: "application/json; charset=utf-8")
        head.headers.add(name: "content-length", value: String(length))
        head.headers.add(name: "x-request-id", value: requestId)
        head.headers.add(name: "connection", value: "close")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        return head
    }

    /// Writes the answer from `context`; the future completes when it is out. The caller closes (an
    /// ``HTTPConnectionGuard`` closes after any error response that passes it).
    @discardableResult
    func write(to context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        let requestId = TetherRequestContext.makeRequestID()
        let json = body(requestId: requestId)
        context.write(NIOAny(HTTPServerResponsePart.head(head(requestId: requestId, length: json.count))), promise: nil)
        context.write(
            NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(bytes: json)))),
            promise: nil)
        return context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
    }
}

/// How many request headers the HTTP listeners accept; more is answered 431.
enum HTTPHeaderLimits {
    /// Header fields per request.
    static let maxCount = 100
    /// One field's name and value.
    static let maxFieldBytes = 16 * 1024
    /// Every field together.
    static let maxTotalBytes = 32 * 1024

    /// The decoder's limits.
    static var decoder: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldCount = maxCount
        limits.maxHeaderFieldSize = maxFieldBytes
        limits.maxHeaderListSize = maxTotalBytes
        return limits
    }
}
