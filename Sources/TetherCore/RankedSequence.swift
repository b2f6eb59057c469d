/// A set of sequence numbers that answers "how many are at or below this one" and "which is the k-th" in
/// O(log n): a Fenwick tree over the numbers from a base, grown by doubling and re-based on the oldest
/// member when it runs out of room. The waiting queue keeps one per priority level (positions of 10 000
/// tickets without walking them, issue 15).
public struct RankedSequence: Sendable, Hashable {
    /// The number at index 0.
    private var base: UInt64 = 0
    /// An empty set.
    public init() {}

    /// The Fenwick tree, 1-based: `tree[i]` sums a range of `present` ending at index `i - 1`.
    private var tree: [Int32] = [0]
    private var present: [Bool] = []
    /// How many numbers are in the set.
    public private(set) var count = 0

    /// Whether `n` is in the set.
    public func contains(_ n: UInt64) -> Bool {
        guard n >= base, n - base < UInt64(present.count) else { return false }
        return present[Int(n - base)]
    }

    /// Adds `n` (no effect when present). Numbers below the oldest member re-base the tree (O(n) once).
    public mutating func insert(_ n: UInt64) {
        guard !contains(n) else { return }
        if count == 0 || n < base || n - base >= UInt64(present.count) { grow(toHold: n) }
        let index = Int(n - base)
        present[index] = true
        add(index, 1)
        count += 1
    }

    /// Removes `n` (no effect when absent).
    public mutating func remove(_ n: UInt64) {
        guard contains(n) else { return }
        let index = Int(n - base)
        present[index] = false
        add(index, -1)
        count -= 1
    }

    /// How many members are at or below `n`.
    public func rank(of n: UInt64) -> Int {
        guard count > 0, n >= base else { return 0 }
        var i = Int(min(n - base, UInt64(present.count - 1))) + 1
        var sum = 0
        while i > 0 {
            sum += Int(tree[i])
            i &= i - 1
        }
        return sum
    }

    /// The `k`-th smallest member (1-based), or nil when there are fewer than `k`.
    public func member(at k: Int) -> UInt64? {
        guard k >= 1, k <= count else { return nil }
        var position = 0
        var remaining = k
        var step = 1
        while step * 2 < tree.count { step *= 2 }
        while step > 0 {
            let next = position + step
            if next < tree.count, Int(tree[next]) < remaining {
                position = next
                remaining -= Int(tree[next])
            }
            step /= 2
        }
        return base + UInt64(position)
    }

    /// The smallest member.
    public var first: UInt64? { member(at: 1) }

    /// Every member, in order (O(range)).
    public var members: [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(count)
        for (index, isPresent) in present.enumerated() where isPresent { out.append(base + UInt64(index)) }
        return out
    }

    private mutating func add(_ index: Int, _ delta: Int32) {
        var i = index + 1
        while i < tree.count {
            tree[i] += delta
            i += i & -i
        }
    }

    /// Rebuilds the tree from the oldest member (or `n`) with room for at least twice the span to `n`.
    private mutating func grow(toHold n: UInt64) {
        let kept = members
        let newBase = min(kept.first ?? n, n)
        let span = Int((max(kept.last ?? n, n)) - newBase) + 1
        let size = max(64, span * 2)
        base = newBase
        present = Array(repeating: false, count: size)
        tree = Array(repeating: 0, count: size + 1)
        for m in kept { present[Int(m - newBase)] = true }
        // Linear build: each node passes its sum to its parent.
        for i in 1...size {
            tree[i] += present[i - 1] ? 1 : 0
            let parent = i + (i & -i)
            if parent <= size { tree[parent] += tree[i] }
        }
    }
}
