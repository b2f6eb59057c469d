import Synchronization
import TetherCore

/// Something the broker can kick: a live client connection on some event loop.
protocol Kickable: AnyObject, Sendable {
    /// Tells the client why and closes (hops to the connection's event loop itself).
    func kick(_ kick: Kick)
    /// Tells a queued client its place or its offer (hops to the connection's event loop itself).
    func notify(_ notice: QueueNotice)
}

extension Kickable {
    /// Only socket clients wait in the queue live.
    func notify(_ notice: QueueNotice) {}
}

/// A connection whose heartbeats its event loop records can say when it was last heard from.
protocol LivenessReporting: AnyObject, Sendable {
    /// When it was last heard from and its heartbeat deadline; `nil` while not recorded (suspended, closed).
    var liveness: (lastSeenAt: Millis, deadlineAt: Millis)? { get }
}

/// Live client connections by id, so the broker's kicks reach them.
final class ConnectionRegistry: Sendable {
    private let table = Mutex<[ConnectionID: any Kickable]>([:])
    private let nextID = Atomic<UInt64>(1)

    /// A new connection id.
    func makeID() -> ConnectionID { nextID.wrappingAdd(1, ordering: .relaxed).oldValue }

    func register(_ id: ConnectionID, _ link: any Kickable) { table.withLock { $0[id] = link } }

    func unregister(_ id: ConnectionID) { _ = table.withLock { $0.removeValue(forKey: id) } }

    /// Delivers kicks to their connections.
    func deliver(_ kicks: [Kick]) {
        let targets = table.withLock { t in kicks.compactMap { k in t[k.connection].map { (k, $0) } } }
        for (kick, link) in targets { link.kick(kick) }
    }

    /// Delivers queue notices to their connections.
    func deliver(_ notices: [QueueNotice]) {
        let targets = table.withLock { t in notices.compactMap { n in t[n.connection].map { (n, $0) } } }
        for (notice, link) in targets { link.notify(notice) }
    }

    /// When the connection was last heard from and its deadline, if its event loop watches it.
    func liveness(of id: ConnectionID) -> (lastSeenAt: Millis, deadlineAt: Millis)? {
        (table.withLock { $0[id] } as? any LivenessReporting)?.liveness
    }

    /// When the connection was last heard from, if its heartbeats are recorded on it.
    func heardAt(_ id: ConnectionID) -> Millis? { liveness(of: id)?.lastSeenAt }

    /// How many connections are registered.
    var count: Int { table.withLock { $0.count } }

    /// How many of them are WebSocket or TCP connections (an HTTP client's link is virtual: its socket is the
    /// HTTP connection, which the kick does not close).
    var socketCount: Int {
        table.withLock { $0.values.reduce(0) { $0 + ($1 is HTTPLink || $1 is HTTPQueueLink ? 0 : 1) } }
    }
}
