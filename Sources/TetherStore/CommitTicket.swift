import Synchronization

/// The promise that one enqueued batch of effects is durable (or failed).
public final class CommitTicket: Sendable {
    /// Called once with `nil` (committed) or the store's error.
    public typealias Callback = @Sendable ((any Error)?) -> Void

    private enum State {
        case pending([Callback])
        case done((any Error)?)
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
            case .done(let error):
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

    /// Marks the batch committed (`nil`) or failed. Only the first call counts.
    public func complete(_ error: (any Error)?) {
        let waiters: [Callback] = state.withLock { state in
            guard case .pending(let waiters) = state else { return [] }
            state = .done(error)
            return waiters
        }
        for waiter in waiters { waiter(error) }
    }
}
