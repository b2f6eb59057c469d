import HeapModule

/// The concurrency slots of one project: who holds each one, and which are idle.
///
/// Slots are numbered from 1; a slot's id is `cc-<projectId>-<n>`. The pool holds `max(capacity, held)`
/// slots: shrinking the capacity removes idle slots at once, and a held slot that is freed while the
/// pool is over capacity retires instead of becoming idle, so no live session is ever evicted.
/// Allocation takes the lowest idle slot.
struct SlotPool: Sendable {
    /// Who holds a slot.
    enum Holder: Sendable, Hashable {
        /// A reservation of this user, with no session yet.
        case reservation(UserID)
        /// A session.
        case session(SessionID)
    }

    let projectId: ProjectID
    private(set) var capacity: Int
    private(set) var holders: [Int: Holder] = [:]
    private(set) var reservedCount = 0
    private var idle = Heap<Int>()

    init(projectId: ProjectID, capacity: Int) {
        self.projectId = projectId
        self.capacity = capacity
        setCapacity(capacity)
    }

    /// Slots that exist: held ones plus idle ones.
    var total: Int { holders.count + idle.count }
    /// Idle slots.
    var idleCount: Int { idle.count }

    func id(of number: Int) -> ConcurrencyID { "cc-\(projectId)-\(number)" }

    static func number(of id: ConcurrencyID) -> Int? {
        guard let dash = id.lastIndex(of: "-") else { return nil }
        return Int(id[id.index(after: dash)...])
    }

    func holder(of id: ConcurrencyID) -> Holder? {
        guard let n = Self.number(of: id) else { return nil }
        return holders[n]
    }

    /// Takes the lowest idle slot for `holder`.
    mutating func acquire(for holder: Holder) -> ConcurrencyID? {
        guard let n = idle.popMin() else { return nil }
        holders[n] = holder
        if case .reservation = holder { reservedCount += 1 }
        return id(of: n)
    }

    /// Gives a held slot a new holder.
    mutating func setHolder(_ holder: Holder, of id: ConcurrencyID) {
        guard let n = Self.number(of: id) else { return }
        if case .reservation = holders[n] { reservedCount -= 1 }
        holders[n] = holder
        if case .reservation = holder { reservedCount += 1 }
    }

    /// Marks a slot held while rebuilding from the store; call ``setCapacity(_:)`` once afterwards.
    /// (Only on a pool made with capacity 0, before ``setCapacity(_:)``: the slot is not taken out of the idle
    /// ones.)
    mutating func restore(_ holder: Holder, of id: ConcurrencyID) {
        guard let n = Self.number(of: id), holders[n] == nil else { return }
        holders[n] = holder
        if case .reservation = holder { reservedCount += 1 }
    }

    /// Frees a slot. Returns whether it retired (the pool was over capacity) instead of becoming idle.
    @discardableResult
    mutating func release(_ id: ConcurrencyID) -> Bool {
        guard let n = Self.number(of: id), let old = holders.removeValue(forKey: n) else { return false }
        if case .reservation = old { reservedCount -= 1 }
        if total + 1 > capacity { return true }
        idle.insert(n)
        return false
    }

    /// Changes the capacity: adds idle slots (lowest free numbers) or removes idle ones (highest first).
    /// Held slots over the new capacity retire when they are freed.
    mutating func setCapacity(_ newCapacity: Int) {
        capacity = newCapacity
        var idleNumbers = idle.unordered.sorted()
        let target = max(0, newCapacity - holders.count)
        if idleNumbers.count > target {
            idleNumbers.removeLast(idleNumbers.count - target)
        } else if idleNumbers.count < target {
            var taken = Set(idleNumbers)
            taken.formUnion(holders.keys)
            var n = 1
            while idleNumbers.count < target {
                if !taken.contains(n) { idleNumbers.append(n) }
                n += 1
            }
        }
        idle = Heap(idleNumbers)
    }
}
