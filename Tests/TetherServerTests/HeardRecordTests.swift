import Foundation
import Testing

@testable import TetherServer

/// A connection's liveness record is written by its event loop and read by the broker's tick on another
/// thread: the reader sees whole writes, never the deadline of one with the last-seen time of another.
struct HeardRecordTests {
    final class Shared: Sendable {
        let record = HeardRecord()
    }

    @Test func recordsForgetsAndSaysNilWhileUnset() {
        let record = HeardRecord()
        #expect(record.liveness == nil)
        record.record(at: 1_700_000_000_123, until: 1_700_000_015_123)
        #expect(record.liveness?.lastSeenAt == 1_700_000_000_123)
        #expect(record.liveness?.deadlineAt == 1_700_000_015_123)
        record.record(at: .max, until: .max)
        #expect(record.liveness?.lastSeenAt == .max && record.liveness?.deadlineAt == .max)
        record.record(at: 0, until: 0)
        #expect(record.liveness == nil)
    }

    /// A writer alternates a heartbeat (`at`, `at + 15 000`) with an `unwatch` (0, 0), as a client that
    /// suspends and comes back does; a reader on another thread must only ever see one of those pairs. (As two
    /// separate atomics, the reader saw `(0, deadline)` within a few thousand rounds here.)
    @Test func aReaderNeverSeesHalfAWrite() async {
        let shared = Shared()
        let rounds = 200_000
        let torn = await withTaskGroup(of: Int.self) { group in
            group.addTask {
                for i in 1...rounds {
                    let at = Int64(1_700_000_000_000 + i)
                    shared.record.record(at: at, until: at + 15_000)
                    shared.record.record(at: 0, until: 0)
                }
                return 0
            }
            group.addTask {
                var torn = 0
                for _ in 0..<(rounds * 2) {
                    if let seen = shared.record.liveness, seen.deadlineAt - seen.lastSeenAt != 15_000 { torn += 1 }
                }
                return torn
            }
            return await group.reduce(0, +)
        }
        #expect(torn == 0)
    }
}
