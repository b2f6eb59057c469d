import Synchronization
import TetherCore

/// The promise that one enqueued batch of effects is durable (or failed).
public final class CommitTicket: Sendable {
    /// Called once with `nil` (committed) or the store's error.
    public typealias Callback = @Sendable ((any Error)?) -> Void

    private enum State {
        case pending([Callback])
        case done((any Error)?, firstCursor: UInt64?)
    }

    private let state = Mutex<State>(.pending([]))

    /// Creates a pending ticket.
    public init() {}

    /// A ticket that is already durable (an empty batch).
    public static func completed() -> CommitTicket {
        let ticket = CommitTicket()
        ticket.complete(nil)
        return ticket
    }

    /// The cursor the store gave the batch's first event when it committed it (the batch's events have the
    /// cursors that follow it, in order); `nil` before the commit, after a failure, or when the batch had no
    /// event. A store shared by several writers gives cursors at commit (``PostgresStore``), so they may differ
    /// from the ones the broker numbered its events with.
    public var firstCursor: UInt64? {
        state.withLock { if case .done(nil, let cursor) = $0 { cursor } else { nil } }
    }

    /// Whether the batch is already committed (or failed).
    public var isDone: Bool {
        state.withLock { if case .done = $0 { true } else { false } }
    }

    /// Calls `callback` once the batch is committed or failed: at once (on this thread) when it already is,
    /// otherwise on the writer's thread. For event loops that must not wait.
    public func whenDurable(_ callback: @escaping Callback) {
        let outcome: (any Error)?? = state.withLock { state in
            switch state {
            case .pending(var waiters):
                waiters.append(callback)
                state = .pending(waiters)
                return nil
            case .done(let error, _):
                return .some(error)
            }
        }
        if let outcome { callback(outcome) }
    }

    /// Waits until the batch is committed; throws the store's error if the transaction failed.
    public func durable() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            whenDurable { error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }
    }

    /// Marks the batch committed (`nil`) or failed. Only the first call counts. `firstCursor`: the cursor its
    /// first event was committed with (``firstCursor``).
    public func complete(_ error: (any Error)?, firstCursor: UInt64? = nil) {
        let waiters: [Callback] = state.withLock { state in
            guard case .pending(let waiters) = state else { return [] }
            state = .done(error, firstCursor: error == nil ? firstCursor : nil)
            return waiters
        }
        for waiter in waiters { waiter(error) }
    }
}

extension CommitTicket {
    /// `events` (the batch's, in order) with the cursors they were committed with: numbered from
    /// ``firstCursor`` when the store gave cursors at commit, as they are otherwise.
    public func committed(_ events: [Event]) -> [Event] {
        guard let first = firstCursor else { return events }
        var out = events
        for i in out.indices { out[i].cursor = first + UInt64(i) }
        return out
    }
}
