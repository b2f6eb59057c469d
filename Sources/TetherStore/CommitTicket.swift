import Synchronization

/// The promise that one enqueued batch of effects is durable (or failed).
public final class CommitTicket: Sendable {
    private enum State {
        case pending([CheckedContinuation<Void, any Error>])
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

    /// Waits until the batch is committed; throws the store's error if the transaction failed.
    public func durable() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: (any Error)?? = state.withLock { state in
                switch state {
                case .pending(var waiters):
                    waiters.append(continuation)
                    state = .pending(waiters)
                    return nil
                case .done(let error):
                    return .some(error)
                }
            }
            switch outcome {
            case .none: break
            case .some(.none): continuation.resume()
            case .some(.some(let error)): continuation.resume(throwing: error)
            }
        }
    }

    /// Marks the batch committed (`nil`) or failed. Only the first call counts.
    public func complete(_ error: (any Error)?) {
        let waiters: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            guard case .pending(let waiters) = state else { return [] }
            state = .done(error)
            return waiters
        }
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }
}
