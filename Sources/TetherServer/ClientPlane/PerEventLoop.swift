import NIOCore
import Synchronization
import TetherCore

/// One value per event loop, made on first use (a loop's ping sweeper): the loop owns it and
/// only its own connections touch it.
final class PerEventLoop<Value: AnyObject & Sendable>: Sendable {
    private let make: @Sendable (any EventLoop) -> Value
    private let table = Mutex<[ObjectIdentifier: Value]>([:])

    init(_ make: @escaping @Sendable (any EventLoop) -> Value) { self.make = make }

    /// The value of `eventLoop`.
    func value(for eventLoop: any EventLoop) -> Value {
        table.withLock { table in
            let key = ObjectIdentifier(eventLoop)
            if let value = table[key] { return value }
            let value = make(eventLoop)
            table[key] = value
            return value
        }
    }
}

/// The ping sweeper of each event loop.
typealias PingSweepers = PerEventLoop<PingSweeper>

extension PerEventLoop where Value == PingSweeper {
    convenience init(time: any TimeSource) { self.init { PingSweeper(eventLoop: $0, time: time) } }

    /// The sweeper of `eventLoop`.
    func sweeper(for eventLoop: any EventLoop) -> PingSweeper { value(for: eventLoop) }
}
