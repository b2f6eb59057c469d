import Synchronization
import TetherCore
import TetherServer

/// A clock the test moves by hand: a server given it (`TetherServer(configuration:time:)`,
/// ``PlaneHarness/run(loopLiveness:time:_:)``) sees no time pass but what the test adds, so a test of a
/// timeout does not depend on how busy the machine is.
public final class ManualTime: TimeSource, Sendable {
    private let value: Atomic<Int64>

    /// A clock that reads `start` until advanced.
    public init(_ start: Millis) { value = Atomic(start) }

    public func now() -> Millis { value.load(ordering: .relaxed) }

    /// Moves the clock forward by `ms`.
    public func advance(by ms: Millis) { value.add(ms, ordering: .relaxed) }
}
