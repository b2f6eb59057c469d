import NIOCore

/// An outbound handler that does what NIO does when a socket write fails: the write's promise fails and the
/// channel closes at once. Put first in an `EmbeddedChannel`'s pipeline, it shows what a client loses when a
/// write fails in the middle of a read.
public final class FailingWrites: ChannelOutboundHandler {
    public typealias OutboundIn = Any

    /// The writes that came (each failed).
    public private(set) var writes = 0

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writes += 1
        promise?.fail(ChannelError.ioOnClosedChannel)
        context.close(promise: nil)
    }
}
