import ServiceLifecycle
import Synchronization
import TetherCore

/// Keeps every project's ``PoolHistory`` (an hour of samples, in memory): takes a round of samples from the
/// broker at start and then every period, and answers `GET /v1/projects/{id}/history`. It holds no rule: when a
/// round is due and what is kept are ``PoolHistory``'s. A node that takes a cluster over starts with an empty
/// history.
final class PoolHistoryRecorder: Service, Sendable {
    let service: BrokerService
    let time: any TimeSource
    private let history: Mutex<PoolHistory>

    /// A recorder sampling every `periodMs` for an hour.
    init(service: BrokerService, time: any TimeSource, periodMs: Millis) {
        self.service = service
        self.time = time
        history = Mutex(PoolHistory(periodMs: periodMs))
    }

    /// The period and window of the history.
    var periodMs: Millis { history.withLock { $0.periodMs } }
    var windowMs: Millis { history.withLock { $0.windowMs } }

    /// Takes a round of samples if one is due now.
    func sample() {
        let now = time.now()
        guard history.withLock({ $0.isDue(at: now) }) else { return }
        let samples = service.read { $0.poolSamples(at: now) }
        history.withLock { $0.record(at: now, samples) }
    }

    /// The project's stored samples, then its pool now; `nil` for a project the broker does not have.
    func samples(of project: ProjectID) -> [PoolSample]? {
        let now = time.now()
        guard let current = service.read({ $0.poolSample(project, at: now) }) else { return nil }
        return history.withLock { $0.samples(of: project, endingWith: current) }
    }

    func run() async throws {
        let period = Duration.milliseconds(periodMs)
        while true {
            sample()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
            } catch {
                return  // graceful shutdown or cancellation
            }
        }
    }
}
