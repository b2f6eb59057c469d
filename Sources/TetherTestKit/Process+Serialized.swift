import Foundation
import Synchronization

/// One `Process.run()` at a time in the test process: swift-corelibs-foundation's launch crashed (a bad
/// pointer in a `memcpy` inside `Process.run()`) when tests launched `tether` processes from several threads at
/// once, in a fresh-clone CI run with the whole suite in parallel.
private let launches = Mutex(())

extension Process {
    /// Launches the process, never at the same time as another launch of this test process.
    public func runSerialized() throws {
        try launches.withLock { _ in try run() }
    }
}
