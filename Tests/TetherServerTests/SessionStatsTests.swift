import Testing
import TetherProtocol

@testable import TetherServer

/// A session's RTT figures: p50 and p99 over the last 256 server pings, each RTT kept in whole milliseconds
/// (16 bits: one over 65.5 s counts as 65 535 ms).
@Suite struct SessionStatsTests {
    @Test func rttQuantilesAreOverTheLast256Pings() {
        let stats = SessionStats()
        #expect(stats.snapshot.rttMs.p50 == nil && stats.snapshot.rttMs.p99 == nil)
        for ms in 1...300 { stats.pingAnswered(rttMs: Double(ms)) }
        // The window holds 45...300: p50 is its 128th value, p99 its 254th.
        #expect(stats.snapshot.rttMs.p50 == 172)
        #expect(stats.snapshot.rttMs.p99 == 298)
    }

    @Test func anRTTBeyond16BitsIsClampedAndTheRestRounded() {
        let stats = SessionStats()
        stats.pingAnswered(rttMs: 70_000)
        #expect(stats.snapshot.rttMs.p50 == 65_535)
        let other = SessionStats()
        other.pingAnswered(rttMs: 2.6)
        #expect(other.snapshot.rttMs.p99 == 3)
    }
}
