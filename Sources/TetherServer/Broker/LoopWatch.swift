import NIOCore
import Synchronization
import TetherCore

/// The broker's clock, held back while an event loop that reads heartbeats is behind.
///
/// A heartbeat counts once the event loop carrying its connection has read it. When a loop falls behind (a
/// storm of hellos, CPU starvation, a pause), heartbeats wait unread in socket buffers while the expiry timer,
/// on another thread, keeps running: healthy clients would be convicted. So every loop stamps a beat from a
/// task scheduled on it every ``periodMs``, and the broker's time never runs more than ``allowanceMs`` past
/// the oldest loop's *vouched* time: the time of its beat before last. A beat vouches only for what the loop
/// had read when the beat before it ran: NIO reads the I/O that is ready when a tick begins, then runs its due
/// tasks, so between two beats of a loop at `b1` and `b2` it has begun a tick after `b1` and read everything
/// that had arrived by then, and nothing later is sure to have been read. (Until 2026-12-07 a beat vouched for
/// its own time; but a beat that runs right after a long tick, or after a task that blocked the loop, has not
/// yet read what arrived during it, and the time could run past heartbeats still unread.) A loop further
/// behind freezes the broker's time; when it has caught up the time jumps, and a jump over the broker's stall
/// threshold moves every deadline later by the stall (``Broker/advance(to:)``), as for a stall of the whole
/// process. The hold lasts at most ``maxHoldMs``:
/// a loop stuck for longer is broken, and the rest of the server (grace windows, reservations, the other
/// loop's clients) must not wait for it forever.
public final class LoopWatch: TimeSource, Sendable {
    /// The last two beats of one loop: the time it vouches for is the earlier one. Written only by the
    /// loop's own beat task (or `stop`), read from any thread.
    final class Beat: Sendable {
        let vouched: Atomic<Int64>
        let last: Atomic<Int64>
        init(_ at: Millis) {
            vouched = Atomic(at)
            last = Atomic(at)
        }
    }

    /// How often each loop stamps its beat.
    public let periodMs: Millis
    /// How far the broker's time may run past the oldest beat.
    public let allowanceMs: Millis
    /// The longest the time is held back.
    public let maxHoldMs: Millis
    private let base: any TimeSource
    private let beats: [Beat]
    private let tasks: Mutex<[RepeatedTask]>

    /// Watches `loopCount` loops (beats are stamped with ``beat(_:)``, or by ``start(on:)``).
    public init(
        base: any TimeSource, loopCount: Int, periodMs: Millis = 10, allowanceMs: Millis = 250,
        maxHoldMs: Millis = 30_000
    ) {
        precondition(allowanceMs > periodMs, "the allowance must exceed the beat period")
        let now = base.now()
        self.base = base
        self.periodMs = periodMs
        self.allowanceMs = allowanceMs
        self.maxHoldMs = maxHoldMs
        self.beats = (0..<loopCount).map { _ in Beat(now) }
        self.tasks = Mutex([])
    }

    /// The broker's time: the base time, but no more than ``allowanceMs`` past the oldest loop's vouched time
    /// (its beat before last), and no more than ``maxHoldMs`` behind the base time.
    public func now() -> Millis {
        let wall = base.now()
        return min(wall, max(oldestBeat() + allowanceMs, wall - maxHoldMs))
    }

    /// How far the broker's time is held back behind the base time (0 while every loop keeps up).
    public func heldBackMs() -> Millis { base.now() - now() }

    /// Stamps loop `index`'s beat at the base time; the loop now vouches for the time of its previous beat.
    public func beat(_ index: Int) {
        let beat = beats[index]
        beat.vouched.store(beat.last.load(ordering: .relaxed), ordering: .relaxed)
        beat.last.store(base.now(), ordering: .relaxed)
    }

    /// Starts one beat task on each loop (as many as ``init(base:loopCount:periodMs:allowanceMs:)`` was told).
    public func start(on loops: [any EventLoop]) {
        precondition(loops.count == beats.count, "one loop per beat")
        let started = loops.enumerated().map { index, loop in
            loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(periodMs)) { [self] _ in
                beat(index)
            }
        }
        tasks.withLock { $0.append(contentsOf: started) }
    }

    /// Stops the beat tasks; the time then follows the base time again.
    public func stop() {
        let stopped = tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in stopped { task.cancel() }
        for beat in beats {
            beat.last.store(.max - allowanceMs, ordering: .relaxed)
            beat.vouched.store(.max - allowanceMs, ordering: .relaxed)
        }
    }

    private func oldestBeat() -> Millis {
        var oldest = Millis.max - allowanceMs
        for beat in beats { oldest = min(oldest, beat.vouched.load(ordering: .relaxed)) }
        return oldest
    }
}
