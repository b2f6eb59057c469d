import Foundation
import NIOCore
import Synchronization

/// The outermost outbound handler of a client connection: it notes when the last bytes left, and can silence
/// the connection, dropping every later write without closing it (automatic pongs included). A silenced
/// connection is what a hung client looks like to the server; the simulator uses it to measure how fast the
/// server notices.
final class LinkTap: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private let muted = Atomic<Bool>(false)
    private let lastWriteMicros = Atomic<Int64>(0)

    /// The Unix time (µs) of the last write that went out, 0 before any.
    var lastWrite: Int64 { lastWriteMicros.load(ordering: .acquiring) }

    /// From now on, drops every write (reporting success) and keeps the connection open.
    func silence() { muted.store(true, ordering: .releasing) }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if muted.load(ordering: .acquiring) {
            promise?.succeed()
            return
        }
        lastWriteMicros.store(Int64(Date().timeIntervalSince1970 * 1_000_000), ordering: .releasing)
        context.write(data, promise: promise)
    }
}
