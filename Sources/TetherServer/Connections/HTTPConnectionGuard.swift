import NIOCore
import NIOHTTP1

/// Keeps an HTTP/1 connection from being held for ever: the idle and read timeouts of ``HTTPExchangeClock``
/// (a request whose head came but whose body is too slow gets a 408 when nothing else is being answered, then
/// the close); a request the
/// parser refuses gets a 400 (431 for too many or too large headers) in the API's error shape, then the close
/// (the parser's error goes no further, so the application never answers it too). With `closeAfterErrors`,
/// every response of status 400 or more is sent with `Connection: close` and the connection closed after it.
///
/// Sits right after the request decoder, on `HTTPServerRequestPart`s and `HTTPServerResponsePart`s. One timer
/// per connection, moved only when a deadline comes earlier than the one it was set for.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var clock: HTTPExchangeClock
    private let closeAfterErrors: Bool
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerAt: NIODeadline?
    private var partsThisRead = false
    private var closeAfterResponse = false
    private var closing = false

    init(idleTimeout: TimeAmount, readTimeout: TimeAmount, closeAfterErrors: Bool) {
        clock = HTTPExchangeClock(now: .now(), idleTimeout: idleTimeout, readTimeout: readTimeout)
        self.closeAfterErrors = closeAfterErrors
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        arm()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        partsThisRead = true
        switch unwrapInboundIn(data) {
        case .head: clock.head(now: .now())
        case .body: break
        case .end: clock.end()
        }
        arm()
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Bytes that made no part are the start of a head: the read timeout runs from them.
        if !partsThisRead, !closing {
            clock.bytesArrived(now: .now())
            arm()
        }
        partsThisRead = false
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError {
            refuse(.parser(parserError), context: context)
        } else if error is ByteToMessageDecoderError, closing {
            // Bytes after the parser failed; the connection is closing.
        } else {
            context.fireErrorCaught(error)
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            clock.responseHead()
            if closeAfterErrors, head.status.code >= 400 {
                closeAfterResponse = true
                head.headers.replaceOrAdd(name: "connection", value: "close")
                context.write(wrapOutboundOut(.head(head)), promise: promise)
                return
            }
        case .body:
            break
        case .end:
            clock.responseEnd(now: .now())
            arm()
            if closeAfterResponse {
                let written = context.write(data)
                if let promise { written.cascade(to: promise) }
                close(after: written, context: context)
                return
            }
        }
        context.write(data, promise: promise)
    }

    // MARK: Timer

    /// Makes sure a timer fires no later than the clock's deadline.
    private func arm() {
        guard let context, let deadline = clock.deadline, !closing else { return }
        if let timerAt, timerAt <= deadline { return }
        timer?.cancel()
        timerAt = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in fired() }
    }

    private func fired() {
        timer = nil
        timerAt = nil
        guard let context, !closing else { return }
        switch clock.expiry(now: .now()) {
        case .none:
            break
        case .later:
            arm()
        case .idle:
            closing = true
            context.close(promise: nil)
        case .readTimeout(let answer):
            if answer {
                refuse(.readTimeout(clock.readTimeout), context: context)
            } else {
                closing = true
                context.close(promise: nil)
            }
        }
    }

    /// Answers with `refusal` (unless a response is under way) and closes.
    private func refuse(_ refusal: HTTPRefusal, context: ChannelHandlerContext) {
        guard !closing else { return }
        if clock.responding {
            closing = true
            context.close(promise: nil)
        } else {
            close(after: refusal.write(to: context), context: context)
        }
    }

    /// Once `written` is out, shuts the output and closes for good when the client closes, or after a second:
    /// closing at once with the client's bytes unread would make the kernel answer them with a reset, which
    /// can destroy the answer before the client reads it. Inbound parts are dropped meanwhile.
    private func close(after written: EventLoopFuture<Void>, context: ChannelHandlerContext) {
        closing = true
        timer?.cancel()
        timer = nil
        context.channel.closeLingering(after: written, linger: Self.linger)
    }

    /// How long a closing connection waits for its client to close first.
    static let linger = TimeAmount.seconds(1)
}
