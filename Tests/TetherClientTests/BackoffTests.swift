import Testing

@testable import TetherClient

@Suite struct BackoffTests {
    let backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))

    @Test func ceilingDoublesFromTheBaseUpToTheCap() {
        #expect(backoff.ceiling(attempt: 1) == .milliseconds(100))
        #expect(backoff.ceiling(attempt: 2) == .milliseconds(200))
        #expect(backoff.ceiling(attempt: 3) == .milliseconds(400))
        #expect(backoff.ceiling(attempt: 5) == .milliseconds(1_600))
        #expect(backoff.ceiling(attempt: 6) == .seconds(2))
        #expect(backoff.ceiling(attempt: 10_000) == .seconds(2))
    }

    @Test func fullJitterSpansZeroToTheCeiling() {
        #expect(backoff.delay(attempt: 3, unit: 0) == .zero)
        #expect(backoff.delay(attempt: 3, unit: 0.5) == .milliseconds(200))
        #expect(backoff.delay(attempt: 3, unit: 0.999) == .milliseconds(399))
        #expect(backoff.delay(attempt: 8, unit: 0.25) == .milliseconds(500))
    }

    @Test func drawsOutsideTheUnitIntervalAreClamped() {
        #expect(backoff.delay(attempt: 2, unit: -3) == .zero)
        #expect(backoff.delay(attempt: 2, unit: 7) == .milliseconds(200))
    }
}
