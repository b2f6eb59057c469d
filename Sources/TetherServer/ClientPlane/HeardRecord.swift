import Synchronization
import TetherCore

/// When a connection was last heard from and its heartbeat deadline: written by the connection's event loop,
/// read by the broker's tick on another thread when the session's deadline falls due.
///
/// The pair is one 16-byte atomic, so a reader sees one whole write or the one before it. As two atomics, a
/// tick between the two stores of an `unwatch` (a client declaring a suspension) could read the deadline still
/// set beside a last-seen time already 0, "heard at 0", and expire a session that had just suspended.
struct HeardRecord: ~Copyable, Sendable {
    private let pair = Atomic<WordPair>(WordPair(first: 0, second: 0))

    init() {}

    /// Records the connection as heard from `at`, silent past `until`; `until` 0 forgets it (``liveness`` is
    /// `nil` then).
    func record(at: Millis, until: Millis) {
        pair.store(
            WordPair(first: UInt(truncatingIfNeeded: at), second: UInt(truncatingIfNeeded: until)),
            ordering: .relaxed)
    }

    /// When the connection was last heard from and its deadline, while recorded.
    var liveness: (lastSeenAt: Millis, deadlineAt: Millis)? {
        let value = pair.load(ordering: .relaxed)
        let until = Millis(truncatingIfNeeded: value.second)
        guard until != 0 else { return nil }
        return (Millis(truncatingIfNeeded: value.first), until)
    }
}
