import Testing

@testable import TetherClient

@Suite struct HeartbeatMeterTests {
    @Test func roundTripsJitterAndLossComeFromSeqEchoes() {
        var meter = HeartbeatMeter()
        let first = meter.sent(at: .milliseconds(0))
        let second = meter.sent(at: .milliseconds(1_000))
        let third = meter.sent(at: .milliseconds(2_000))
        #expect([first, second, third] == [1, 2, 3])
        #expect(meter.answered(seq: first, at: .milliseconds(10)) == .milliseconds(10))
        #expect(meter.answered(seq: second, at: .milliseconds(1_026)) == .milliseconds(26))
        #expect(meter.stats.lastRTT == .milliseconds(26))
        #expect(meter.stats.smoothedRTT == .milliseconds(12))
        #expect(meter.stats.jitter == .milliseconds(1))
        #expect(meter.answered(seq: 99, at: .milliseconds(1_100)) == nil)
        #expect(meter.answered(seq: first, at: .milliseconds(1_100)) == nil)
        meter.expire(sentBefore: .milliseconds(2_500))
        #expect(meter.stats.pingsLost == 1)
        #expect(meter.stats.pingsSent == 3)
        #expect(meter.stats.pongsReceived == 2)
        #expect(abs(meter.stats.lossRate - 1.0 / 3.0) < 1e-9)
        #expect(meter.answered(seq: third, at: .milliseconds(2_600)) == nil)
    }

    @Test func pingsInFlightWhenTheConnectionEndsAreNotLoss() {
        var meter = HeartbeatMeter()
        _ = meter.sent(at: .zero)
        meter.connectionEnded()
        meter.expire(sentBefore: .seconds(100))
        #expect(meter.stats.pingsLost == 0)
        #expect(meter.stats.lossRate == 0)
    }
}
