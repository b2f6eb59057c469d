import Synchronization

/// Runs `body` and gives up on it after `timeout`: the caller gets ``TetherTransportError`` then, even if
/// `body` ignores cancellation (it is cancelled and left to finish on its own), so a wait is never longer
/// than its deadline.
func withDeadline<T: Sendable>(
    _ timeout: Duration, _ what: @autoclosure () -> String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let message = "\(what()): no answer within \(timeout)"
    let once = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let tasks = Mutex<[Task<Void, Never>]>([])
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            once.withLock { $0 = continuation }
            let finish: @Sendable (Result<T, any Error>) -> Void = { result in
                guard
                    let continuation = once.withLock({ c -> CheckedContinuation<T, any Error>? in
                        defer { c = nil }
                        return c
                    })
                else { return }
                continuation.resume(with: result)
                for task in tasks.withLock({ $0 }) { task.cancel() }
            }
            let work = Task {
                do { finish(.success(try await body())) } catch { finish(.failure(error)) }
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                finish(.failure(TetherTransportError(message)))
            }
            tasks.withLock { $0 = [work, timer] }
            // Finished before the tasks were recorded: stop the timer now rather than at its end.
            if once.withLock({ $0 == nil }) {
                work.cancel()
                timer.cancel()
            }
        }
    } onCancel: {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }
}
