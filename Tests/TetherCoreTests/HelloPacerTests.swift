import Testing
import TetherCore

@Suite struct HelloPacerTests {
    @Test func aBurstIsAdmittedThenTheRate() {
        var pacer = HelloPacer(ratePerSecond: 100, burst: 10)
        for _ in 0..<10 { #expect(pacer.admit(at: 0, unit: 0.5) == nil) }
        #expect(pacer.admit(at: 0, unit: 0.5) != nil)
        // 100 per second: one more every 10 ms.
        #expect(pacer.admit(at: 10, unit: 0.5) == nil)
        #expect(pacer.admit(at: 10, unit: 0.5) != nil)
        // A quiet second refills the burst, never more.
        var admitted = 0
        for _ in 0..<20 where pacer.admit(at: 2_000, unit: 0.5) == nil { admitted += 1 }
        #expect(admitted == 10)
    }

    @Test func aRateOfZeroAdmitsEverything() {
        var pacer = HelloPacer(ratePerSecond: 0, burst: 1)
        for i in 0..<10_000 { #expect(pacer.admit(at: Millis(i / 100), unit: 0.9) == nil) }
    }

    /// A crowd refused at once is told to come back at the rate, each at its own place, not all at once.
    @Test func theRefusedAreSpreadOverTheTimeTheRateNeeds() {
        var pacer = HelloPacer(ratePerSecond: 1_000, burst: 100)
        var retries: [Millis] = []
        for i in 0..<5_100 {
            // Draws spread over 0 ..< 1 in a scrambled order (7919 is prime to 1000).
            if let retry = pacer.admit(at: 0, unit: Double(i * 7_919 % 1_000) / 1_000) {
                retries.append(retry)
            }
        }
        #expect(retries.count == 5_000)
        #expect(retries.allSatisfy { $0 >= 1 && $0 <= 5_002 })
        // Played back at their retry times, no 100 ms holds more than the rate's 100 plus a margin.
        var perBucket: [Millis: Int] = [:]
        for r in retries { perBucket[r / 100, default: 0] += 1 }
        #expect(perBucket.values.max() ?? 0 <= 110)
        #expect(perBucket.count >= 50)
        // The crowd paid back, the rate admits again.
        #expect(pacer.admit(at: 6_000, unit: 0) == nil)
    }

    @Test func aShutdownSpreadsItsKicksAtTheRate() {
        #expect(HelloPacer.spread(index: 0, baseMs: 1_000, ratePerSecond: 500) == 1_000)
        #expect(HelloPacer.spread(index: 500, baseMs: 1_000, ratePerSecond: 500) == 2_000)
        #expect(HelloPacer.spread(index: 10_000, baseMs: 1_000, ratePerSecond: 0) == 1_000)
    }

    @Test func aShutdownKicksEveryClientAtItsOwnTime() throws {
        var h = Harness()
        try h.project("p", capacity: 4)
        for user in ["a", "b", "c", "d"] { _ = try h.connected(user) }
        try h.run(.shutdown(retryAfterMs: 1_000, paceRatePerSecond: 2))
        let retries = h.kicks.compactMap(\.retryAfterMs).sorted()
        #expect(retries == [1_000, 1_500, 2_000, 2_500])
    }
}
