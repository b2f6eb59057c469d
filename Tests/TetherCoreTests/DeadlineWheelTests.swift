import PropertyBased
import Testing
import TetherCore

@Suite struct DeadlineWheelTests {
    private func drain(_ wheel: inout DeadlineWheel<Int>, to t: Int64) -> [DeadlineWheel<Int>.Expiry] {
        var out: [DeadlineWheel<Int>.Expiry] = []
        wheel.advance(to: t, into: &out)
        return out
    }

    @Test func expiresAtTheExactMillisecondAndReportsLateness() {
        var wheel = DeadlineWheel<Int>(now: 1_000)
        wheel.arm(1, at: 1_005)
        #expect(drain(&wheel, to: 1_004).isEmpty)
        #expect(drain(&wheel, to: 1_005) == [.init(key: 1, deadline: 1_005, lateness: 0)])
        wheel.arm(2, at: 1_010)
        #expect(drain(&wheel, to: 1_017) == [.init(key: 2, deadline: 1_010, lateness: 7)])
        #expect(wheel.isEmpty)
    }

    @Test func reArmAndCancelReplaceTheDeadline() {
        var wheel = DeadlineWheel<Int>(now: 0)
        wheel.arm(1, at: 100)
        wheel.arm(1, at: 300)
        #expect(wheel.count == 1 && wheel.deadline(of: 1) == 300)
        #expect(drain(&wheel, to: 299).isEmpty)
        wheel.arm(2, at: 400)
        let first = wheel.cancel(2)
        let second = wheel.cancel(2)
        #expect(first && !second)
        #expect(drain(&wheel, to: 1_000).map(\.key) == [1])
    }

    @Test func expiriesComeInDeadlineOrderAcrossLevels() {
        var wheel = DeadlineWheel<Int>(now: 123_456_789)
        let deltas: [Int64] = [70_000_000, 1, 255, 256, 257, 65_535, 65_536, 65_537, 16_777_216, 3, 5_000_000_000]
        for (i, d) in deltas.enumerated() { wheel.arm(i, at: 123_456_789 + d) }
        let out = drain(&wheel, to: 123_456_789 + 6_000_000_000)
        #expect(out.map(\.deadline) == deltas.map { 123_456_789 + $0 }.sorted())
        #expect(out.count == deltas.count)
    }

    @Test func aDeadlineInThePastIsReportedByTheNextAdvance() {
        var wheel = DeadlineWheel<Int>(now: 500)
        wheel.arm(7, at: 400)
        #expect(wheel.nextWakeup == 500)
        #expect(drain(&wheel, to: 500) == [.init(key: 7, deadline: 400, lateness: 100)])
    }

    @Test func nextWakeupNeverPassesADeadline() {
        var wheel = DeadlineWheel<Int>(now: 0)
        #expect(wheel.nextWakeup == nil)
        wheel.arm(1, at: 10)
        #expect(wheel.nextWakeup == 10)
        wheel.arm(2, at: 100_000)
        _ = drain(&wheel, to: 10)
        let wake = wheel.nextWakeup!
        #expect(wake > 10 && wake <= 100_000)
    }

    @Test func shiftMovesEveryDeadline() {
        var wheel = DeadlineWheel<Int>(now: 0)
        wheel.arm(1, at: 50)
        wheel.arm(2, at: 70_000)
        wheel.shift(by: 1_000)
        #expect(wheel.deadline(of: 1) == 1_050 && wheel.deadline(of: 2) == 71_000)
        #expect(drain(&wheel, to: 1_049).isEmpty)
        #expect(drain(&wheel, to: 71_000).map(\.key) == [1, 2])
    }

    /// Random arms, re-arms, cancels and advances agree with a plain dictionary.
    @Test func agreesWithANaiveModel() async {
        let op = Gen.int(in: 0...3)
        let key = Gen.int(in: 0...40)
        let offset = Gen.int(in: 0...300_000)
        await propertyCheck(count: 200, input: PropertyBased.zip(op, key, offset).array(of: 1...300)) { steps in
            var wheel = DeadlineWheel<Int>(now: 4_294_000_000)  // near a 2^32 boundary on purpose
            var model: [Int: Int64] = [:]
            var now: Int64 = 4_294_000_000
            for (op, key, offset) in steps {
                switch op {
                case 0, 1:
                    let d = now + Int64(offset) - (op == 1 ? 1_000 : 0)
                    wheel.arm(key, at: d)
                    model[key] = d
                case 2:
                    let had = wheel.cancel(key)
                    #expect(had == (model.removeValue(forKey: key) != nil))
                default:
                    let target = now + Int64(offset / 3)
                    var out: [DeadlineWheel<Int>.Expiry] = []
                    wheel.advance(to: target, into: &out)
                    let due = model.filter { $0.value <= target }
                    #expect(Set(out.map(\.key)) == Set(due.keys))
                    #expect(out.map(\.deadline) == out.map(\.deadline).sorted())
                    #expect(out.allSatisfy { $0.lateness == target - $0.deadline && due[$0.key] == $0.deadline })
                    for k in due.keys { model.removeValue(forKey: k) }
                    now = target
                }
                #expect(wheel.count == model.count)
                if let wake = wheel.nextWakeup, let soonest = model.values.min() {
                    #expect(wake <= max(soonest, now))
                }
            }
        }
    }
}
