import DequeModule
import Synchronization
import TetherCore

/// Fans committed events out to live readers (SSE streams, webhook dispatchers, the dashboard).
///
/// The broker service publishes a command's events once its transaction is durable, in commit order, so
/// the feed only ever holds events the store also holds: a reader never sees an event that a crash could
/// take back. The feed keeps the newest events in memory (``capacity``); a reader further behind reads the
/// store. Readers do not get events pushed: they are *told* that the durable cursor moved (a ``Signal``) and
/// read what they need, so a slow reader never holds anything up and never misses anything.
final class EventFeed: Sendable {
    /// What a subscription hears.
    enum Signal: Sendable {
        /// The durable cursor moved.
        case new
        /// Nothing happened for a while (time for an SSE keep-alive comment).
        case idle
    }

    private struct State {
        var durable: UInt64
        var recent: Deque<Event> = []
        var subscribers: [Int: AsyncStream<Signal>.Continuation] = [:]
        var nextId = 0
        var closed = false
    }

    /// How many of the newest events are kept in memory.
    let capacity: Int
    private let state: Mutex<State>

    /// Creates a feed whose durable cursor is `cursor` (the last event already committed).
    init(cursor: UInt64, capacity: Int = 32_768) {
        self.capacity = capacity
        self.state = Mutex(State(durable: cursor))
    }

    /// The cursor of the last durable event.
    var durableCursor: UInt64 { state.withLock { $0.durable } }

    /// Whether a reader follows the feed now.
    var hasSubscribers: Bool { state.withLock { !$0.subscribers.isEmpty } }

    /// Adds committed events, in cursor order, and wakes the subscribers. A gap (events published out of
    /// order, or a failed commit) empties the in-memory window, so readers fall back to the store.
    func publish(_ events: [Event]) {
        guard let last = events.last else { return }
        let subscribers: [AsyncStream<Signal>.Continuation] = state.withLock { s in
            guard last.cursor > s.durable else { return [] }
            if let first = events.first, first.cursor != s.durable + 1 { s.recent.removeAll() }
            for event in events where event.cursor > s.durable { s.recent.append(event) }
            if s.recent.count > capacity { s.recent.removeFirst(s.recent.count - capacity) }
            s.durable = last.cursor
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(.new) }
    }

    /// Up to `limit` events after `cursor` (of one project, or all), from memory; `nil` when the window no
    /// longer reaches back to `cursor` (read the store instead). The second value is the cursor the reader
    /// has seen through: events of other projects in between are skipped, not re-read.
    func recent(after cursor: UInt64, projectId: ProjectID?, limit: Int) -> (events: [Event], through: UInt64)? {
        state.withLock { s in
            guard cursor < s.durable else { return ([], cursor) }
            guard let oldest = s.recent.first?.cursor, oldest <= cursor + 1 else { return nil }
            var out: [Event] = []
            var through = cursor
            var index = Int(cursor + 1 - oldest)
            while index < s.recent.count, out.count < limit {
                let event = s.recent[index]
                if projectId == nil || event.projectId == projectId { out.append(event) }
                through = event.cursor
                index += 1
            }
            return (out, through)
        }
    }

    /// Moves the durable cursor to `cursor` without the events before it (they are in the store): the
    /// in-memory window empties, so readers behind `cursor` read the store. For a follower's mirror that was
    /// idle and is far behind (``EventMirror/refresh()``).
    func skip(to cursor: UInt64) {
        let subscribers: [AsyncStream<Signal>.Continuation] = state.withLock { s in
            guard cursor > s.durable else { return [] }
            s.recent.removeAll()
            s.durable = cursor
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(.new) }
    }

    /// One reader's signals; ``finish()`` ends this subscription only.
    struct Subscription: Sendable {
        /// The signals, until ``finish()``, ``EventFeed/close()`` or the stream is dropped.
        let signals: AsyncStream<Signal>
        fileprivate let continuation: AsyncStream<Signal>.Continuation
        /// Ends this subscription (its reader's loop sees the end of ``signals``).
        func finish() { continuation.finish() }
    }

    /// A subscription: `.new` when the durable cursor moves, `.idle` every `idleAfter`.
    func subscribe(idleAfter: Duration) -> Subscription {
        let (stream, continuation) = AsyncStream.makeStream(of: Signal.self, bufferingPolicy: .bufferingNewest(1))
        let id: Int? = state.withLock { s in
            guard !s.closed else { return nil }
            let id = s.nextId
            s.nextId += 1
            s.subscribers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return Subscription(signals: stream, continuation: continuation)
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: idleAfter)
                continuation.yield(.idle)
            }
        }
        continuation.onTermination = { [weak self] _ in
            ticker.cancel()
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return Subscription(signals: stream, continuation: continuation)
    }

    /// Ends every subscription (graceful shutdown); later subscriptions end at once.
    func close() {
        let subscribers = state.withLock { s in
            s.closed = true
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}
