import HTTPTypes
import Logging
import ServiceLifecycle
import TetherCore
import TetherStore

/// Owns the broker: feeds it commands and time, and carries out its effects.
///
/// The broker runs on this actor. After each command the durable effects are handed to the store in the
/// broker's order (synchronously, before any suspension), then the caller waits for the commit before it
/// acknowledges. A timer wakes at the broker's next deadline (or its tick) to advance time. Kicks go to the
/// client plane through ``setKickHandler(_:)``.
public actor BrokerService: Service {
    private var broker: Broker
    private let store: any Store
    private let time: any TimeSource
    private let logger: Logger
    private var wakeTask: Task<Void, Never>?
    private var plannedWake: Millis?
    private var kickHandler: (@Sendable ([Kick]) -> Void)?
    private let shutdownRetryAfterMs: Millis

    /// Rebuilds the broker from the store and commits the restart's own transitions.
    public init(
        store: any Store, time: any TimeSource, configuration: BrokerConfiguration = BrokerConfiguration(),
        shutdownRetryAfterMs: Millis = 1_000, logger: Logger
    ) async throws {
        let snapshot = try await store.load()
        var broker = Broker(configuration: configuration, restoring: snapshot, at: time.now())
        let effects = broker.takeEffects()
        self.broker = broker
        self.store = store
        self.time = time
        self.logger = logger
        self.shutdownRetryAfterMs = shutdownRetryAfterMs
        try await store.enqueue(effects).durable()
        logger.info(
            "broker restored",
            metadata: [
                "projects": "\(snapshot.projects.count)", "sessions": "\(snapshot.sessions.count)",
                "reservations": "\(snapshot.reservations.count)", "cursor": "\(snapshot.cursor)",
            ])
    }

    /// Sets who closes client connections.
    public func setKickHandler(_ handler: @escaping @Sendable ([Kick]) -> Void) {
        kickHandler = handler
    }

    /// Runs a command; returns once its effects are durable. A refused command throws ``BrokerError``.
    public func execute(_ command: Command) async throws -> Reply {
        let reply: Reply
        do {
            reply = try broker.handle(command, at: time.now())
        } catch {
            let ticket = flush()
            try? await ticket.durable()
            throw error
        }
        let ticket = flush()
        do {
            try await ticket.durable()
        } catch {
            logger.error("store commit failed", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, code: "InternalError.Store", message: "the store could not commit")
        }
        return reply
    }

    /// Reads the broker's state.
    public func read<T: Sendable>(_ body: (Broker) throws -> T) rethrows -> T {
        try body(broker)
    }

    /// Hands queued effects to the store and the client plane, and re-plans the timer.
    private func flush() -> CommitTicket {
        let effects = broker.takeEffects()
        let ticket = effects.isEmpty ? CommitTicket.completed() : store.enqueue(effects)
        var kicks: [Kick] = []
        for effect in effects {
            switch effect {
            case .kick(let kick): kicks.append(kick)
            case .deadlinesShifted(let ms):
                logger.warning("process stalled; deadlines moved later", metadata: ["stallMs": "\(ms)"])
            default: break
            }
        }
        if !kicks.isEmpty { kickHandler?(kicks) }
        planWake()
        return ticket
    }

    private func planWake() {
        guard let next = broker.nextWakeup else { return }
        if let planned = plannedWake, planned <= next, wakeTask != nil { return }
        wakeTask?.cancel()
        plannedWake = next
        let delay = max(0, next - time.now())
        wakeTask = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(delay))
            guard !Task.isCancelled else { return }
            await self?.tick()
        }
    }

    private func tick() {
        wakeTask = nil
        plannedWake = nil
        broker.advance(to: time.now())
        _ = flush()
    }

    /// Runs until graceful shutdown; then kicks every client with `shutdown` and commits their sessions
    /// moving to grace.
    public func run() async throws {
        try? await gracefulShutdown()
        wakeTask?.cancel()
        _ = try? await execute(.shutdown(retryAfterMs: shutdownRetryAfterMs))
        try await store.close()
        logger.info("broker stopped")
    }
}
