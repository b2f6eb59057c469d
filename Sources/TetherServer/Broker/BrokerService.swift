import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TetherCore
import TetherStore

/// Owns the broker: feeds it commands and time, and carries out its effects.
///
/// The broker sits behind one mutex, so an event loop can run a client's command synchronously (no task,
/// no executor hop) and the backend API can run its commands from any task. Inside the lock, after each
/// command, the durable effects go to the store in the broker's order; the caller then waits for the
/// commit before it acknowledges. Kicks go to the client plane (outside the lock). A timer on a thread of
/// its own wakes at the broker's next deadline (or its tick) to advance time.
public final class BrokerService: Service, Sendable {
    private struct State {
        var broker: Broker
        var plannedWake: Millis?
        var wakeTask: Scheduled<Void>?
        var kickHandler: (@Sendable ([Kick]) -> Void)?
        var noticeHandler: (@Sendable ([QueueNotice]) -> Void)?
        var endHandler: (@Sendable ([SessionID]) -> Void)?
        /// When the client plane last heard from a connection whose heartbeats it records itself.
        var heard: (@Sendable (ConnectionID) -> Millis?)?
        var stopped = false
    }

    private let state: Mutex<State>
    private let store: any Store
    private let time: any TimeSource
    private let logger: Logger
    private let shutdownRetryAfterMs: Millis
    private let shutdownPaceRatePerSecond: Double
    /// Committed events, for live readers.
    let feed: EventFeed
    /// The thread of the expiry timer: its own, so that the timer fires on time while the event loops and
    /// the cooperative pool are busy (a `Task.sleep` waits for a free pool thread, which cost tens of ms
    /// under load), and the kernel wakes it at the deadline like any sleeping thread.
    private static let timerLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    /// Rebuilds the broker from the store and queues the restart's own transitions for commit.
    public init(
        store: any Store, time: any TimeSource, configuration: BrokerConfiguration = BrokerConfiguration(),
        shutdownRetryAfterMs: Millis = 1_000, shutdownPaceRatePerSecond: Double = 0, logger: Logger
    ) async throws {
        let started = ContinuousClock.now
        let snapshot = try await store.load()
        let loaded = ContinuousClock.now
        var broker = Broker(configuration: configuration, restoring: snapshot, at: time.now())
        let effects = broker.takeEffects()
        let rebuilt = ContinuousClock.now
        self.state = Mutex(State(broker: broker))
        self.store = store
        self.time = time
        self.logger = logger
        self.shutdownRetryAfterMs = shutdownRetryAfterMs
        self.shutdownPaceRatePerSecond = shutdownPaceRatePerSecond
        // The feed starts at what is durable; the restart's own events reach it once committed.
        self.feed = EventFeed(cursor: snapshot.cursor)
        logger.info(
            "broker restored",
            metadata: [
                "projects": "\(snapshot.projects.count)", "sessions": "\(snapshot.sessions.count)",
                "reservations": "\(snapshot.reservations.count)", "cursor": "\(snapshot.cursor)",
                "loadMs": "\(Self.ms(loaded - started))", "rebuildMs": "\(Self.ms(rebuilt - loaded))",
            ])
        // The restart's transitions (connected sessions to grace) are committed like any command's, without
        // waiting here: the client plane may accept meanwhile, since the store writes batches in order and a
        // welcome waits for its own batch, which cannot commit before these (seconds with tens of thousands of
        // sessions: most of a storm's time to ready, docs/PERFORMANCE.md "Storms").
        let ticket = state.withLock { flush(effects, &$0).0 }
        let logger = self.logger
        ticket.whenDurable { error in
            if let error {
                logger.error("the restart's transitions were not committed", metadata: ["error": "\(error)"])
            } else {
                logger.info("restart committed", metadata: ["commitMs": "\(Self.ms(ContinuousClock.now - rebuilt))"])
            }
        }
        let restored = time.now()
        state.withLock {
            $0.broker.resumeClock(at: restored)
            planWake(&$0)
        }
    }

    private static func ms(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    /// Sets who closes client connections.
    public func setKickHandler(_ handler: @escaping @Sendable ([Kick]) -> Void) {
        state.withLock { $0.kickHandler = handler }
    }

    /// Sets who tells queued clients their places and offers.
    public func setNoticeHandler(_ handler: @escaping @Sendable ([QueueNotice]) -> Void) {
        state.withLock { $0.noticeHandler = handler }
    }

    /// Sets where the broker reads when a connection whose heartbeats the client plane records
    /// (``BrokerConfiguration/shellWatchedTransports``) was last heard from, when its deadline falls due.
    /// Called inside the lock: it must not call back into the service.
    public func setHeardSource(_ source: @escaping @Sendable (ConnectionID) -> Millis?) {
        state.withLock { $0.heard = source }
    }

    /// Sets who forgets per-session state (stats, HTTP links) when sessions end. Called inside the lock:
    /// it must not call back into the service.
    public func setEndHandler(_ handler: @escaping @Sendable ([SessionID]) -> Void) {
        state.withLock { $0.endHandler = handler }
    }

    /// Runs a command now, on the calling thread. Returns the reply and the ticket of its durability;
    /// a refused command throws ``BrokerError`` (the effects of deadlines processed before it still flow).
    /// `audit` is written in the same transaction as the command's effects, when the command succeeds.
    public func submit(_ command: Command, audit: AuditRecord? = nil) throws(BrokerError) -> (Reply, CommitTicket) {
        let now = time.now()
        let (result, ticket, kicks, handler) = state.withLock {
            s -> (Result<Reply, BrokerError>, CommitTicket, [Kick], (@Sendable ([Kick]) -> Void)?) in
            let result: Result<Reply, BrokerError>
            var effects: [Effect] = []
            if s.stopped {
                result = .failure(.stopping(retryAfterMs: shutdownRetryAfterMs))
            } else {
                effects = s.broker.tick(at: now, heard: s.heard ?? { _ in nil })
                do throws(BrokerError) {
                    let (reply, produced) = try s.broker.handle(command)
                    effects += produced
                    if let audit { effects.append(.audit(audit)) }
                    result = .success(reply)
                    // Stopped with the shutdown, under the same lock: a command that comes after it (a heartbeat
                    // of a connection whose `shutdown` kick is still on its way) is refused as `stopping`, not
                    // judged against sessions the shutdown just moved to grace (it was `fenced`, which an HTTP
                    // client was told as 410 `expired`).
                    if case .shutdown = command { s.stopped = true }
                } catch {
                    result = .failure(error)
                }
            }
            let (ticket, kicks) = flush(effects, &s)
            return (result, ticket, kicks, s.kickHandler)
        }
        if !kicks.isEmpty { handler?(kicks) }
        switch result {
        case .success(let reply): return (reply, ticket)
        case .failure(let error): throw error
        }
    }

    /// Runs a command; returns once its effects are durable (``StoreUnavailable`` when the store failed them).
    public func execute(_ command: Command, audit: AuditRecord? = nil) async throws -> Reply {
        let (reply, ticket) = try submit(command, audit: audit)
        do {
            try await ticket.durable()
        } catch {
            logger.error("store commit failed", metadata: ["error": "\(error)"])
            throw StoreUnavailable()
        }
        return reply
    }

    /// Reads the broker's state.
    public func read<T: Sendable, E: Error>(_ body: (borrowing Broker) throws(E) -> T) throws(E) -> T {
        try state.withLock { s throws(E) in try body(s.broker) }
    }

    /// Hands the broker's effects to the store, collects kicks, re-plans the timer. Runs inside the lock.
    private func flush(_ effects: [Effect], _ s: inout State) -> (CommitTicket, [Kick]) {
        guard !effects.isEmpty else {
            planWake(&s)
            return (CommitTicket.completed(), [])
        }
        let ticket = store.enqueue(effects)
        var kicks: [Kick] = []
        var ended: [SessionID] = []
        var events: [Event] = []
        var notices: [QueueNotice] = []
        for effect in effects {
            switch effect {
            case .event(let event): events.append(event)
            case .kick(let kick): kicks.append(kick)
            case .sessionEnded(let id): ended.append(id)
            case .queueNotice(let notice): notices.append(notice)
            case .deadlineExpired(let kind, let latenessMs):
                TetherMetrics.lateness(kind, ms: latenessMs)
            case .deadlinesShifted(let ms):
                logger.warning("process stalled; deadlines moved later", metadata: ["stallMs": "\(ms)"])
            default: break
            }
        }
        planWake(&s)
        if !ended.isEmpty, let handler = s.endHandler { handler(ended) }
        if !notices.isEmpty, let handler = s.noticeHandler { handler(notices) }
        if !events.isEmpty {
            // Tickets complete in commit order, so the feed gets events in cursor order: the cursors the store
            // committed them with (a store shared by several nodes gives them at commit).
            let feed = self.feed
            let events = events
            let logger = self.logger
            ticket.whenDurable { [ticket] error in
                guard error == nil else { return }
                let committed = ticket.committed(events)
                feed.publish(committed)
                for event in committed { Self.log(event, logger) }
            }
        }
        return (ticket, kicks)
    }

    /// One committed lifecycle event as a log line (info), with the ids to find it by.
    private static func log(_ event: Event, _ logger: Logger) {
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "cursor": "\(event.cursor)", "projectId": "\(event.projectId)", "userId": "\(event.userId)",
            "concurrencyId": "\(event.concurrencyId)",
        ]
        if let sessionId = event.sessionId { metadata["sessionId"] = "\(sessionId)" }
        if let epoch = event.epoch { metadata["epoch"] = "\(epoch)" }
        if let cause = event.data.cause { metadata["cause"] = "\(cause.rawValue)" }
        if let reason = event.data.reason { metadata["reason"] = "\(reason.rawValue)" }
        if let transport = event.data.transport { metadata["transport"] = "\(transport.rawValue)" }
        logger.info("\(event.type.rawValue)", metadata: metadata)
    }

    private func planWake(_ s: inout State) {
        guard !s.stopped, let next = s.broker.nextWakeup else { return }
        if let planned = s.plannedWake, planned <= next, s.wakeTask != nil { return }
        s.wakeTask?.cancel()
        s.plannedWake = next
        let delay = max(0, next - time.now())
        s.wakeTask = Self.timerLoop.scheduleTask(in: .milliseconds(delay)) { [weak self] in
            self?.tick()
        }
    }

    /// Advances the broker to now (the timer's job; tests may call it).
    public func tick() {
        let now = time.now()
        let (kicks, handler) = state.withLock { s -> ([Kick], (@Sendable ([Kick]) -> Void)?) in
            s.wakeTask = nil
            s.plannedWake = nil
            let effects = s.broker.tick(at: now, heard: s.heard ?? { _ in nil })
            return (flush(effects, &s).1, s.kickHandler)
        }
        if !kicks.isEmpty { handler?(kicks) }
    }

    /// Runs until graceful shutdown; then kicks every client with `shutdown`, commits their sessions moving
    /// to grace, and closes the store. Later commands are refused.
    public func run() async throws {
        try? await gracefulShutdown()
        let ticket = try? submit(
            .shutdown(retryAfterMs: shutdownRetryAfterMs, paceRatePerSecond: shutdownPaceRatePerSecond)
        ).1
        state.withLock { s in
            s.stopped = true
            s.wakeTask?.cancel()
            s.wakeTask = nil
        }
        try? await ticket?.durable()
        feed.close()
        try await store.close()
        logger.info("broker stopped")
    }
}
