import NIOCore
import Synchronization
import TetherCore

/// Something a ``PingSweeper`` looks at: a welcomed connection that may need a server ping.
protocol PingSweepable: AnyObject {
    /// Where the sweeper keeps it (set by the sweeper only).
    var sweepSlot: Int { get set }
    /// How often the connection must be looked at.
    var sweepEveryMs: Millis { get }
    /// Pings the client if it has been quiet long enough (called on the loop, `now` from the plane's time).
    func sweep(at now: Millis)
}

/// Pings the quiet clients of one event loop from one timer, instead of a repeated task per connection
/// (10 k connections with 1 s intervals made 40 k timer firings a second, each an allocation and a hop).
///
/// Confined to its event loop. The timer runs every quarter of the shortest heartbeat interval among the
/// connections it has seen (at least 25 ms) and stops while there are none.
final class PingSweeper: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let time: any TimeSource
    private var members: [any PingSweepable] = []
    private var periodMs: Millis = .max
    private var task: RepeatedTask?

    init(eventLoop: any EventLoop, time: any TimeSource) {
        self.eventLoop = eventLoop
        self.time = time
    }

    /// How many connections it looks at.
    var count: Int { members.count }

    /// Starts looking at `member` (on the loop).
    func add(_ member: any PingSweepable) {
        eventLoop.preconditionInEventLoop()
        guard member.sweepSlot < 0 else { return }
        member.sweepSlot = members.count
        members.append(member)
        let every = max(member.sweepEveryMs, 25)
        if every < periodMs || task == nil {
            periodMs = min(periodMs, every)
            restart()
        }
    }

    /// Stops looking at `member` (on the loop). O(1): the last member takes its slot.
    func remove(_ member: any PingSweepable) {
        let slot = member.sweepSlot
        guard slot >= 0, slot < members.count, members[slot] === member else { return }
        member.sweepSlot = -1
        let last = members.removeLast()
        if slot < members.count {
            members[slot] = last
            last.sweepSlot = slot
        }
        if members.isEmpty {
            task?.cancel()
            task = nil
            periodMs = .max
        }
    }

    /// Looks at every member once (the timer's job; tests may call it).
    func sweepAll() {
        let now = time.now()
        // A member removed during the sweep (its write failed) is still visited once; it ignores the call.
        for member in members { member.sweep(at: now) }
    }

    private func restart() {
        task?.cancel()
        let every = TimeAmount.milliseconds(periodMs)
        task = eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { [self] _ in sweepAll() }
    }
}

/// The sweeper of each event loop, made on first use.
final class PingSweepers: Sendable {
    private let time: any TimeSource
    private let table = Mutex<[ObjectIdentifier: PingSweeper]>([:])

    init(time: any TimeSource) { self.time = time }

    /// The sweeper of `eventLoop`.
    func sweeper(for eventLoop: any EventLoop) -> PingSweeper {
        table.withLock { table in
            let key = ObjectIdentifier(eventLoop)
            if let sweeper = table[key] { return sweeper }
            let sweeper = PingSweeper(eventLoop: eventLoop, time: time)
            table[key] = sweeper
            return sweeper
        }
    }
}
