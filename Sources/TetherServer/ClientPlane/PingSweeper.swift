import NIOCore
import Synchronization
import TetherCore

/// Something a ``PingSweeper`` looks at: a welcomed connection that may need a server ping.
protocol PingSweepable: AnyObject {
    /// Where the sweeper keeps it (set by the sweeper only).
    var sweepSlot: Int { get set }
    /// How often the connection must be looked at.
    var sweepEveryMs: Millis { get }
    /// Pings the client if it has been quiet long enough (called on the loop, `now` from the plane's time);
    /// returns whether it sent a ping.
    func sweep(at now: Millis) -> Bool
}

/// Pings the quiet clients of one event loop from one timer, instead of a repeated task per connection
/// (10 k connections with 1 s intervals made 40 k timer firings a second, each an allocation and a hop).
///
/// Confined to its event loop. The timer runs at the shortest ``PingSweepable/sweepEveryMs`` among the
/// connections it has seen (at least 25 ms) and stops while there are none. One sweep sends at most
/// ``pingsPerSweep`` pings, so that thousands of clients falling quiet together (a network partition) cost the
/// loop a few milliseconds per sweep instead of one long stall that would delay every read behind it; the
/// next sweep goes on where this one stopped.
final class PingSweeper: @unchecked Sendable {
    let eventLoop: any EventLoop
    /// The most pings one sweep sends.
    let pingsPerSweep: Int
    private let time: any TimeSource
    private var members: [any PingSweepable] = []
    private var cursor = 0
    private var periodMs: Millis = .max
    private var task: RepeatedTask?

    init(eventLoop: any EventLoop, time: any TimeSource, pingsPerSweep: Int = 256) {
        self.eventLoop = eventLoop
        self.time = time
        self.pingsPerSweep = pingsPerSweep
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

    /// Looks at every member once, or until ``pingsPerSweep`` pings went out (the timer's job).
    func sweepAll() {
        let now = time.now()
        let snapshot = members  // a member removed during the sweep (a failed write) ignores its call
        guard !snapshot.isEmpty else { return }
        var index = cursor % snapshot.count
        var budget = pingsPerSweep
        for _ in 0..<snapshot.count {
            if snapshot[index].sweep(at: now) {
                budget -= 1
            }
            index = index + 1 == snapshot.count ? 0 : index + 1
            if budget == 0 { break }
        }
        cursor = index
    }

    private func restart() {
        task?.cancel()
        let every = TimeAmount.milliseconds(periodMs)
        task = eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { [self] _ in sweepAll() }
    }
}
