import Foundation

/// Runs `body`, which blocks its thread (reading a child process's output until it says where it listens, a
/// blocking socket), on a thread of its own, and waits for it without holding a thread of Swift concurrency's
/// cooperative pool.
///
/// That pool has one thread per core (two here) and every test of the process shares it. A test that blocks a
/// pool thread for seconds (a `tether serve` starting on a loaded machine) stops every other test's tasks for
/// as long: a fresh-clone CI run saw 30 s between an apply and the create right after it, and healthy test
/// clients miss their heartbeats the same way.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
