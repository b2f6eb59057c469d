import Foundation
import NIOCore
import Synchronization
import TetherProtocol

/// The open connections of one listener per source address, and how many one address may hold: a connection
/// over the cap is closed as soon as it is accepted, so one host cannot take the whole file table.
final class AddressCap: Sendable {
    /// A source address without its port.
    enum Key: Hashable, Sendable {
        case v4(UInt32)
        case v6(UInt64, UInt64)
        case other

        init(_ address: SocketAddress?) {
            switch address {
            case .v4(let a):
                self = .v4(a.address.sin_addr.s_addr)
            case .v6(let a):
                self = withUnsafeBytes(of: a.address.sin6_addr) { raw in
                    .v6(
                        raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                        raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                }
            default:
                self = .other
            }
        }
    }

    /// Connections one address may hold; 0 for no cap.
    let limit: Int
    private let open = Mutex<[Key: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Counts a connection from `key`; `false` (and not counted) when the address is at the cap.
    func acquire(_ key: Key) -> Bool {
        guard limit > 0 else { return true }
        return open.withLock { open in
            let count = open[key, default: 0]
            guard count < limit else { return false }
            open[key] = count + 1
            return true
        }
    }

    /// Forgets a connection counted by ``acquire(_:)``.
    func release(_ key: Key) {
        guard limit > 0 else { return }
        open.withLock { open in
            guard let count = open[key] else { return }
            if count <= 1 { open.removeValue(forKey: key) } else { open[key] = count - 1 }
        }
    }

    /// The open connections of an address.
    func count(_ key: Key) -> Int { open.withLock { $0[key, default: 0] } }
}

/// The first handler of every accepted connection: counts it against its address's cap when it becomes
/// active. A connection within the cap is released when it closes (on its close future) and the handler
/// leaves the pipeline at once, so the reads of a live connection do not pass through it (one hop fewer per
/// heartbeat). A connection over the cap is told so at once, without waiting for a request, then closed
/// (lingering a second, so the answer is not lost to a reset): on an HTTP listener a 429
/// `RequestLimitExceeded.Connections` with `Retry-After` (``HTTPRefusal``), on the TCP port a `kick` frame
/// `tooManyConnections` with `retryAfterMs`; the handler stays and its input never reaches the application.
final class AddressCapHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How a connection over the cap is told.
    enum Answer: Sendable {
        /// An HTTP 429.
        case http
        /// A TCP `kick` frame.
        case tcpKick
    }

    /// The kick reason on the TCP port, and when to try again.
    static let kickReason = "tooManyConnections"
    static let retryAfterMs: Int64 = 1_000

    private let cap: AddressCap
    private let answer: Answer
    private var refused = false

    init(cap: AddressCap, answer: Answer) {
        self.cap = cap
        self.answer = answer
    }

    func channelActive(context: ChannelHandlerContext) {
        let key = AddressCap.Key(context.channel.remoteAddress)
        context.fireChannelActive()
        if cap.acquire(key) {
            let cap = cap
            context.channel.closeFuture.whenComplete { _ in cap.release(key) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        refused = true
        let channel = context.channel
        let refusal: ByteBuffer
        switch answer {
        case .http:
            refusal = HTTPRefusal.tooManyConnections(limit: cap.limit).encoded()
        case .tcpKick:
            var frame = context.channel.allocator.buffer(capacity: 96)
            let kick = ServerMessage.kick(reason: Self.kickReason, retryAfterMs: Self.retryAfterMs)
            try? TCPFrameEncoder().encode(
                data: TCPFrame(type: kick.frameType.rawValue, payload: ByteBuffer(bytes: kick.json)), out: &frame)
            refusal = frame
        }
        channel.closeLingering(after: context.writeAndFlush(wrapOutboundOut(refusal)))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A connection over the cap is read and dropped until it closes.
        if refused { return }
        context.fireChannelRead(data)
    }
}
