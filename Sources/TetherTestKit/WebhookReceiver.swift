import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A local webhook receiver: records every POST (headers and body) and answers with what `respond` says
/// (a status code, ``hold`` to keep the request open without ever answering, or `nil` to close the
/// connection without an answer). It counts held requests whose connection the sender closed.
public final class WebhookReceiver: Sendable {
    /// One request as received.
    public struct Request: Sendable {
        public var headers: [String: String]
        public var body: [UInt8]
        /// `X-Tether-Event-Id`.
        public var cursor: UInt64? { headers["x-tether-event-id"].flatMap(UInt64.init) }
        public var attempt: Int? { headers["x-tether-delivery-attempt"].flatMap(Int.init) }
    }

    /// The answer that is never sent: the request stays open until the sender gives up.
    public static let hold = 0

    private struct State {
        public var requests: [(Request, answered: Int?)] = []
        public var respond: @Sendable (Request, Int) -> Int? = { _, _ in 200 }
        public var abandoned = 0
    }

    private let state = Mutex(State())
    private let channel: any Channel
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)/hook" }

    public init() async throws {
        let holder = Holder()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(holder: holder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        holder.receiver.withLock { $0 = self }
    }

    /// Sets how requests are answered: `(request, index of the request) -> status or nil (drop)`.
    public func respond(_ body: @escaping @Sendable (Request, Int) -> Int?) { state.withLock { $0.respond = body } }

    /// Every request so far with the status it got (`nil`: dropped).
    public var requests: [(Request, answered: Int?)] { state.withLock { $0.requests } }

    /// Held requests (``hold``) whose connection the sender closed (it gave up or was cancelled).
    public var abandoned: Int { state.withLock { $0.abandoned } }

    /// The requests answered with a 2xx, in arrival order.
    public var delivered: [Request] { requests.filter { ($0.answered ?? 0) / 100 == 2 }.map(\.0) }

    public func close() async { try? await channel.close() }

    fileprivate func handle(_ request: Request) -> Int? {
        state.withLock { s in
            let status = s.respond(request, s.requests.count)
            s.requests.append((request, status))
            return status
        }
    }

    fileprivate func abandon() { state.withLock { $0.abandoned += 1 } }

    private final class Holder: Sendable {
        public let receiver = Mutex<WebhookReceiver?>(nil)
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        public typealias InboundIn = HTTPServerRequestPart
        public typealias OutboundOut = HTTPServerResponsePart
        public let holder: Holder
        public var headers: [String: String] = [:]
        public var body: [UInt8] = []
        public var holding = false

        public init(holder: Holder) { self.holder = holder }

        public func channelInactive(context: ChannelHandlerContext) {
            if holding { holder.receiver.withLock({ $0 })?.abandon() }
            holding = false
            context.fireChannelInactive()
        }

        public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                headers = Dictionary(
                    head.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                let request = Request(headers: headers, body: body)
                guard let status = holder.receiver.withLock({ $0 })?.handle(request) else {
                    context.close(promise: nil)
                    return
                }
                guard status != WebhookReceiver.hold else {
                    holding = true
                    return
                }
                var head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status))
                head.headers.add(name: "Content-Length", value: "0")
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
