/// A hierarchical timing wheel of deadlines with 1 ms resolution.
///
/// Four levels of 256 slots cover 2^32 ms (about 49 days) ahead of the wheel's time; a deadline further
/// away waits in an overflow list until the wheel gets close enough. A key has at most one deadline.
///
/// * ``arm(_:at:)`` (also re-arm) and ``cancel(_:)`` are O(1): a hash lookup and a linked-list splice.
/// * ``advance(to:into:)`` is O(expired + cascaded): empty slots are skipped with occupancy bitmaps, and
///   each entry moves down a level at most three times in its life.
/// * Every expiry reports how late it was processed (`processedAt - deadline`).
///
/// The wheel never reads a clock; time only moves when ``advance(to:into:)`` is called.
public struct DeadlineWheel<Key: Hashable & Sendable>: Sendable {
    /// One processed deadline.
    public struct Expiry: Sendable, Equatable {
        /// The key whose deadline passed.
        public var key: Key
        /// The deadline that passed.
        public var deadline: Int64
        /// How late the deadline was processed: the time passed to ``advance(to:into:)`` minus the deadline.
        public var lateness: Int64

        /// Creates an expiry report.
        public init(key: Key, deadline: Int64, lateness: Int64) {
            self.key = key
            self.deadline = deadline
            self.lateness = lateness
        }
    }

    private struct Node: Sendable {
        var key: Key?
        var deadline: Int64
        var next: Int32
        var prev: Int32
        var list: Int32
    }

    private static var slotBits: Int64 { 8 }
    private static var slotsPerLevel: Int { 256 }
    private static var levels: Int { 4 }
    private static var overdueList: Int32 { Int32(levels * slotsPerLevel) }
    private static var overflowList: Int32 { overdueList + 1 }
    private static var none: Int32 { -1 }

    private var nodes: [Node] = []
    private var freeHead: Int32 = -1
    private var index: [Key: Int32] = [:]
    private var heads: [Int32]
    private var occupancy: [UInt64]

    /// The wheel's time: every deadline at or before it has been reported.
    public private(set) var now: Int64

    /// Creates an empty wheel whose time starts at `now` (milliseconds, any epoch, not negative).
    public init(now: Int64) {
        self.now = now
        self.heads = Array(repeating: Self.none, count: Self.levels * Self.slotsPerLevel + 2)
        self.occupancy = Array(repeating: 0, count: Self.levels * Self.slotsPerLevel / 64)
    }

    /// How many deadlines are armed.
    public var count: Int { index.count }

    /// Whether no deadline is armed.
    public var isEmpty: Bool { index.isEmpty }

    /// The armed deadline of `key`, if any.
    public func deadline(of key: Key) -> Int64? {
        guard let i = index[key] else { return nil }
        return nodes[Int(i)].deadline
    }

    /// Every armed key with its deadline, in no particular order.
    public var entries: [(key: Key, deadline: Int64)] {
        index.map { ($0.key, nodes[Int($0.value)].deadline) }
    }

    /// Arms `key` to expire at `deadline`, replacing its previous deadline if it had one.
    /// A deadline at or before ``now`` is reported by the next ``advance(to:into:)``.
    public mutating func arm(_ key: Key, at deadline: Int64) {
        let i: Int32
        if let existing = index[key] {
            i = existing
            unlink(i)
            nodes[Int(i)].deadline = deadline
        } else {
            i = allocate(key: key, deadline: deadline)
            index[key] = i
        }
        place(i)
    }

    /// Removes the deadline of `key`. Returns whether it had one.
    @discardableResult
    public mutating func cancel(_ key: Key) -> Bool {
        guard let i = index.removeValue(forKey: key) else { return false }
        unlink(i)
        release(i)
        return true
    }

    /// The earliest time at which ``advance(to:into:)`` has work to do: an expiry, or moving entries
    /// closer to expiry. A timer that fires at this time never misses a deadline. `nil` when empty.
    public var nextWakeup: Int64? {
        if heads[Int(Self.overdueList)] != Self.none { return now }
        for level in 0..<Self.levels {
            let shift = Self.slotBits * Int64(level)
            let current = Int((now >> shift) & 255)
            if let slot = nextOccupied(level: level, after: current) {
                let blockShift = shift + Self.slotBits
                return ((now >> blockShift) << blockShift) | (Int64(slot) << shift)
            }
        }
        if heads[Int(Self.overflowList)] != Self.none { return ((now >> 32) + 1) << 32 }
        return nil
    }

    /// Moves the wheel's time to `time` and appends every deadline at or before it to `expired`,
    /// in deadline order, removing them from the wheel. A `time` before ``now`` is treated as ``now``.
    public mutating func advance(to time: Int64, into expired: inout [Expiry]) {
        let target = max(time, now)
        if heads[Int(Self.overdueList)] != Self.none {
            var due: [Expiry] = []
            drain(list: Self.overdueList, processedAt: target, into: &due)
            due.sort { $0.deadline < $1.deadline }
            expired.append(contentsOf: due)
        }
        while let t = nextWakeup, t <= target {
            now = t
            if t & 0xFFFF_FFFF == 0 { cascade(list: Self.overflowList) }
            for level in stride(from: Self.levels - 1, through: 1, by: -1) {
                let shift = Self.slotBits * Int64(level)
                if t & ((Int64(1) << shift) - 1) == 0 {
                    cascade(list: Int32(level * Self.slotsPerLevel) + Int32((t >> shift) & 255))
                }
            }
            drain(list: Int32(t & 255), processedAt: target, into: &expired)
            // A cascade at `t` puts entries due exactly at `t` in the overdue list.
            drain(list: Self.overdueList, processedAt: target, into: &expired)
        }
        now = target
    }

    /// Moves every armed deadline `delta` ms later (used when the process itself stalled). O(count).
    public mutating func shift(by delta: Int64) {
        guard delta != 0 else { return }
        let all = entries
        for entry in all { arm(entry.key, at: entry.deadline + delta) }
    }

    // MARK: - Lists

    private mutating func allocate(key: Key, deadline: Int64) -> Int32 {
        let node = Node(key: key, deadline: deadline, next: Self.none, prev: Self.none, list: Self.none)
        if freeHead != Self.none {
            let i = freeHead
            freeHead = nodes[Int(i)].next
            nodes[Int(i)] = node
            return i
        }
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    private mutating func release(_ i: Int32) {
        nodes[Int(i)].key = nil
        nodes[Int(i)].next = freeHead
        nodes[Int(i)].list = Self.none
        freeHead = i
    }

    /// The list a deadline belongs in, relative to the wheel's time.
    private func list(for deadline: Int64) -> Int32 {
        if deadline <= now { return Self.overdueList }
        for level in 0..<Self.levels {
            let shift = Self.slotBits * Int64(level)
            let blockShift = shift + Self.slotBits
            if deadline >> blockShift == now >> blockShift {
                return Int32(level * Self.slotsPerLevel) + Int32((deadline >> shift) & 255)
            }
        }
        return Self.overflowList
    }

    private mutating func place(_ i: Int32) {
        let list = list(for: nodes[Int(i)].deadline)
        let head = heads[Int(list)]
        nodes[Int(i)].list = list
        nodes[Int(i)].prev = Self.none
        nodes[Int(i)].next = head
        if head != Self.none { nodes[Int(head)].prev = i }
        heads[Int(list)] = i
        if list < Self.overdueList { occupancy[Int(list) >> 6] |= 1 << UInt64(list & 63) }
    }

    private mutating func unlink(_ i: Int32) {
        let node = nodes[Int(i)]
        if node.prev != Self.none {
            nodes[Int(node.prev)].next = node.next
        } else {
            heads[Int(node.list)] = node.next
            if node.next == Self.none && node.list < Self.overdueList {
                occupancy[Int(node.list) >> 6] &= ~(1 << UInt64(node.list & 63))
            }
        }
        if node.next != Self.none { nodes[Int(node.next)].prev = node.prev }
        nodes[Int(i)].list = Self.none
    }

    /// Detaches a whole list and returns its first node.
    private mutating func detach(list: Int32) -> Int32 {
        let head = heads[Int(list)]
        heads[Int(list)] = Self.none
        if list < Self.overdueList { occupancy[Int(list) >> 6] &= ~(1 << UInt64(list & 63)) }
        return head
    }

    private mutating func cascade(list: Int32) {
        var i = detach(list: list)
        while i != Self.none {
            let next = nodes[Int(i)].next
            place(i)
            i = next
        }
    }

    private mutating func drain(list: Int32, processedAt: Int64, into expired: inout [Expiry]) {
        var i = detach(list: list)
        while i != Self.none {
            let node = nodes[Int(i)]
            if let key = node.key {
                expired.append(Expiry(key: key, deadline: node.deadline, lateness: processedAt - node.deadline))
                index.removeValue(forKey: key)
            }
            release(i)
            i = node.next
        }
    }

    /// The first occupied slot of `level` whose index is greater than `current`.
    private func nextOccupied(level: Int, after current: Int) -> Int? {
        let base = level * Self.slotsPerLevel
        var slot = current + 1
        while slot < Self.slotsPerLevel {
            let bit = base + slot
            let word = occupancy[bit >> 6] >> UInt64(bit & 63)
            if word != 0 { return slot + word.trailingZeroBitCount }
            slot = (slot | 63) + 1
        }
        return nil
    }
}
