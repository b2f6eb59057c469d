import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// RFC 6455 §4.2.1: what an opening handshake on `/v1/connect` must carry. NIO's upgrader checks only the
/// version and that a key is present, and hands any request it does not upgrade to the next handler; this
/// check runs in its `shouldUpgrade`, and ``WebSocketRefusalHandler`` answers what was not upgraded.
enum WebSocketHandshake {
    /// The path clients connect to.
    static let path = "/v1/connect"

    /// Whether `uri` is the connect path (the query string is not part of it).
    static func isConnectPath(_ uri: String) -> Bool {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first == Substring(path)
    }

    /// Why a handshake is refused, or `nil` when it is a good one.
    static func refusal(_ head: HTTPRequestHead) -> HTTPRefusal? {
        func bad(_ message: String) -> HTTPRefusal {
            HTTPRefusal(status: .badRequest, code: "InvalidParameter", message: message)
        }
        guard head.method == .GET else {
            return HTTPRefusal(
                status: .methodNotAllowed, code: "UnsupportedOperation", message: "use GET with a WebSocket upgrade")
        }
        guard head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) else {
            return bad("a WebSocket handshake needs HTTP/1.1")
        }
        guard tokens(head.headers, "upgrade").contains("websocket") else {
            return bad("Upgrade: websocket is required")
        }
        guard tokens(head.headers, "connection").contains("upgrade") else {
            return bad("Connection: Upgrade is required")
        }
        let versions = head.headers[canonicalForm: "sec-websocket-version"]
        guard versions.count == 1, versions[0] == "13" else {
            return HTTPRefusal(
                status: .upgradeRequired, code: "InvalidParameter.WebSocketVersion",
                message: "Sec-WebSocket-Version: only 13 is supported", headers: [("Sec-WebSocket-Version", "13")])
        }
        let keys = head.headers["sec-websocket-key"]
        guard keys.count == 1, let key = Data(base64Encoded: keys[0].trimmingCharacters(in: .whitespaces)),
            key.count == 16
        else {
            return bad("Sec-WebSocket-Key must be one base64-encoded 16-byte value")
        }
        return nil
    }

    /// The comma-separated tokens of a header, lowercased.
    private static func tokens(_ headers: HTTPHeaders, _ name: String) -> Set<String> {
        Set(headers[canonicalForm: name].map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }
}

/// Answers a request for `/v1/connect` that was not upgraded (a refused or malformed handshake, a plain GET):
/// 400, 405, or 426 with `Sec-WebSocket-Version: 13`, in the API's error shape (the ``HTTPConnectionGuard``
/// in front of it closes the connection after it). Other requests pass. Swallows the upgrader's own errors for such requests (the answer says what was wrong).
final class WebSocketRefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private var refusing: HTTPRefusal?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(let head) = part, WebSocketHandshake.isConnectPath(head.uri) {
            refusing =
                WebSocketHandshake.refusal(head)
                ?? HTTPRefusal(
                    status: .badRequest, code: "InvalidParameter", message: "the WebSocket upgrade was refused")
        }
        guard let refusal = refusing else {
            context.fireChannelRead(data)
            return
        }
        if case .end = part {
            refusing = nil
            refusal.write(to: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is NIOWebSocketUpgradeError else {
            context.fireErrorCaught(error)
            return
        }
    }
}
