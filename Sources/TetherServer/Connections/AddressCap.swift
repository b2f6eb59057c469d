import Foundation
import NIOCore
import Synchronization

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
/// active (closing it at once when the address is at the cap) and releases it when it goes inactive.
final class AddressCapHandler: ChannelInboundHandler {
    typealias InboundIn = Any

    private let cap: AddressCap
    private var key: AddressCap.Key?

    init(cap: AddressCap) { self.cap = cap }

    func channelActive(context: ChannelHandlerContext) {
        let key = AddressCap.Key(context.channel.remoteAddress)
        context.fireChannelActive()
        if cap.acquire(key) {
            self.key = key
        } else {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let key {
            cap.release(key)
            self.key = nil
        }
        context.fireChannelInactive()
    }
}
