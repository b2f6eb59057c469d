import Synchronization

/// Writes batches in the order they were enqueued, as few transactions as possible: one fsync for many
/// requests (group commit).
///
/// ``enqueue(_:)`` is synchronous and never blocks on I/O: it appends the batch to a queue under a mutex and,
/// when the queue goes from idle to non-empty, starts a single writer loop in a `Task`. The loop takes
/// *every* pending batch, hands them to `commit` (one transaction), completes their tickets (a failure fails
/// every ticket of that transaction), and repeats while batches are pending. Batches enqueued while a
/// transaction is being written therefore go into the next transaction together.
///
/// The writer is independent of the database: `commit` is the only place that writes.
public final class GroupCommitWriter<Batch: Sendable>: Sendable {
    /// Writes the given batches, in order, in one transaction; throws when the transaction fails. Returns, per
    /// batch, the cursor its first event was committed with (``CommitTicket/firstCursor``), or `nil`s.
    public typealias Commit = @Sendable ([Batch]) async throws -> [UInt64?]

    private struct Pending: Sendable {
        var batch: Batch
        var ticket: CommitTicket
    }

    private struct State: Sendable {
        var queue: [Pending] = []
        var writing = false
        var closed = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var stats = GroupCommitStats()
    }

    private enum EnqueueOutcome {
        case queued
        case start
        case closed
    }

    /// Hears about each transaction once it is written (or failed): for metrics.
    public typealias Observer = @Sendable (GroupCommitReport) -> Void

    private let state = Mutex(State())
    private let commit: Commit
    private let observer: Observer?

    /// Creates a writer whose transactions are carried out by `commit`; `observer` hears about each one.
    public init(observer: Observer? = nil, commit: @escaping Commit) {
        self.commit = commit
        self.observer = observer
    }

    /// Queues a batch for the next transaction and returns the promise of its commit. A batch enqueued after
    /// ``close()`` fails with ``StoreError/closed``.
    public func enqueue(_ batch: Batch) -> CommitTicket {
        let ticket = CommitTicket()
        let outcome: EnqueueOutcome = state.withLock { state in
            guard !state.closed else { return .closed }
            state.queue.append(Pending(batch: batch, ticket: ticket))
            guard !state.writing else { return .queued }
            state.writing = true
            return .start
        }
        switch outcome {
        case .queued: break
        case .start: Task { await self.run() }
        case .closed: ticket.complete(StoreError.closed)
        }
        return ticket
    }

    /// The counters so far.
    public var stats: GroupCommitStats { state.withLock { $0.stats } }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Waits until every batch enqueued so far is written (committed or failed).
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle: Bool = state.withLock { state in
                guard state.writing else { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Refuses further batches, then waits until the pending ones are written.
    public func close() async {
        state.withLock { $0.closed = true }
        await flush()
    }

    /// The writer loop: one transaction per round, with everything pending at its start.
    private func run() async {
        while true {
            let (pending, waiters): ([Pending], [CheckedContinuation<Void, Never>]) = state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.writing = false
                    let waiters = state.idleWaiters
                    state.idleWaiters = []
                    return ([], waiters)
                }
                let pending = state.queue
                state.queue = []
                return (pending, [])
            }
            guard !pending.isEmpty else {
                for waiter in waiters { waiter.resume() }
                return
            }
            var failure: (any Error)?
            var firstCursors: [UInt64?] = []
            let started = ContinuousClock.now
            do {
                firstCursors = try await commit(pending.map(\.batch))
            } catch {
                failure = error
            }
            observer?(
                GroupCommitReport(
                    batches: pending.count, duration: ContinuousClock.now - started, failed: failure != nil))
            state.withLock { state in
                state.stats.transactions += 1
                state.stats.batches += pending.count
                if failure != nil { state.stats.failedTransactions += 1 }
            }
            for (i, item) in pending.enumerated() {
                item.ticket.complete(failure, firstCursor: i < firstCursors.count ? firstCursors[i] : nil)
            }
        }
    }
}
