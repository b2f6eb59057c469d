import Logging
import ServiceLifecycle

/// Saves the keys' `lastUsedAt` once a minute (when a key was used since) and once more at shutdown: a call
/// notes its key's use in memory only, so that no request waits for a write.
struct KeyUsageFlusher: Service {
    let keys: KeyRing
    let logger: Logger
    var interval: Duration = .seconds(60)

    func run() async throws {
        while true {
            let stopping: Bool
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                stopping = false
            } catch {
                stopping = true
            }
            do {
                try await keys.flush()
            } catch {
                logger.warning("could not save the API keys' last use", metadata: ["error": "\(error)"])
            }
            if stopping { return }
        }
    }
}
