import PropertyBased
import Testing
import TetherCore

/// ``RankedSequence`` against a sorted array: the same members, ranks and k-th members after any mix of
/// inserts and removes (growth and re-basing included).
@Suite struct RankedSequenceTests {
    @Test func agreesWithASortedArray() async {
        let steps = PropertyBased.zip(Gen.bool, Gen.int(in: 0...3_000)).array(of: 1...400)
        await propertyCheck(count: 200, input: steps) { steps in
            var set = RankedSequence()
            var reference: [UInt64] = []
            for (insert, raw) in steps {
                let n = UInt64(raw)
                if insert {
                    set.insert(n)
                    if !reference.contains(n) { reference.append(n) }
                } else {
                    set.remove(n)
                    reference.removeAll { $0 == n }
                }
                reference.sort()
                #expect(set.count == reference.count)
                #expect(set.contains(n) == reference.contains(n))
                #expect(set.rank(of: n) == reference.filter { $0 <= n }.count)
                let k = reference.isEmpty ? 1 : raw % reference.count + 1
                #expect(set.member(at: k) == (reference.isEmpty ? nil : reference[k - 1]))
            }
            #expect(set.members == reference)
            #expect(set.first == reference.first)
        }
    }
}
