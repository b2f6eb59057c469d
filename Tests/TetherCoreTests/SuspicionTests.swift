import Testing

@testable import TetherCore

@Suite struct SuspicionTests {
    @Test func quietForMoreThanAnIntervalIsSuspect() {
        #expect(!Suspicion.isSuspect(lastHeardAt: 1_000, intervalMs: 5_000, at: 1_000))
        #expect(!Suspicion.isSuspect(lastHeardAt: 1_000, intervalMs: 5_000, at: 6_000))
        #expect(Suspicion.isSuspect(lastHeardAt: 1_000, intervalMs: 5_000, at: 6_001))
        // The session's own clock may be behind the reader's (a heartbeat recorded after `now` was read).
        #expect(!Suspicion.isSuspect(lastHeardAt: 7_000, intervalMs: 5_000, at: 6_001))
    }
}
