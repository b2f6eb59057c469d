import Logging
import ServiceLifecycle
import TetherCore
import TetherStore

/// Keeps the event log bounded: at start and then every ``interval``, deletes every event but the newest
/// `keep`, and every event older than `maxAgeMs`. A reader that resumes from a deleted cursor is told so
/// (410 `FailedOperation.EventsPruned`) instead of silently missing events.
struct EventRetention: Service {
    let store: any Store
    let keep: Int
    let maxAgeMs: Millis
    let time: any TimeSource
    let logger: Logger
    var interval: Duration = .seconds(60)

    /// Prunes once, now.
    func prune() async {
        do {
            let deleted = try await store.pruneEvents(keepLast: keep, before: time.now() - maxAgeMs)
            if deleted > 0 { logger.info("pruned old events", metadata: ["deleted": "\(deleted)"]) }
        } catch {
            logger.warning("event retention failed", metadata: ["error": "\(error)"])
        }
    }

    func run() async throws {
        await prune()
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return  // graceful shutdown or cancellation
            }
            await prune()
        }
    }
}
