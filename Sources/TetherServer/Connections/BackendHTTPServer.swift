import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTP1

/// The backend API's HTTP/1 server: Hummingbird's, with the request header limits of ``HTTPHeaderLimits``, the
/// per-address cap, and an ``HTTPConnectionGuard`` (timeouts; parser errors answered in the API's shape and
/// closed, where Hummingbird would answer an empty 400 and wait for the client to close).
enum BackendHTTPServer {
    static func builder(limits: ConnectionLimits, tls: TLSIdentity? = nil) -> HTTPServerBuilder {
        let cap = AddressCap(limit: limits.maxPerAddress)
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: HTTPHeaderLimits.maxFieldBytes, maxHeaderListSize: HTTPHeaderLimits.maxTotalBytes,
            maxHeaderFieldCount: HTTPHeaderLimits.maxCount)
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [GuardInstaller(limits: limits, cap: cap, tls: tls)],
                httpDecoderConfiguration: decoder))
    }
}

/// Hummingbird adds its extra handlers after its HTTPTypes codec; the guard works on NIOHTTP1's parts and must
/// see the parser's errors before the application does. So this handler, added among the extras, puts the
/// guard right after the request decoder, the cap handler first (TLS before it, when on), and leaves.
final class GuardInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    private let limits: ConnectionLimits
    private let cap: AddressCap
    private let tls: TLSIdentity?

    init(limits: ConnectionLimits, cap: AddressCap, tls: TLSIdentity?) {
        self.limits = limits
        self.cap = cap
        self.tls = tls
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        let guardHandler = HTTPConnectionGuard(
            idleTimeout: limits.idleTimeout, readTimeout: limits.readTimeout, closeAfterErrors: false)
        do {
            try pipeline.addHandler(AddressCapHandler(cap: cap, answer: .http), position: .first)
            try tls?.addServerHandlers(to: pipeline)
            let decoder = try pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(guardHandler, position: .after(decoder.handler))
        } catch {
            assertionFailure("no HTTP/1 request decoder in the backend's pipeline: \(error)")
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}
