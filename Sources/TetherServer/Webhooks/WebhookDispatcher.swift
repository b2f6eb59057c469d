import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
import TetherCore
import TetherProtocol
import TetherStore

/// Delivers each project's events to its webhook: POSTed as JSON, signed, in cursor order, retried with
/// exponential backoff until a 2xx.
///
/// The outbox is the durable event log itself plus one durable cursor per project (the setting
/// `webhook.cursor.<projectId>`, the last event the receiver acknowledged): an event is in the log before
/// any reader sees it, and the cursor only moves past an event after a 2xx, so a crash or restart loses
/// nothing; it may re-send what was acknowledged in the last moments before a crash (at least once). A
/// project with no stored cursor starts from its oldest kept event (a project created with a webhook gets
/// all of its events); a webhook added later starts at the moment it was added (``webhookAdded(_:at:)``).
///
/// One task per project with a webhook, each with its own HTTP requests (AsyncHTTPClient, one client for
/// the dispatcher, made in ``run()`` and shut down when it ends): a slow or dead receiver holds up only
/// its own project's webhook, never heartbeats, the API or other projects. A deleted project's task is
/// cancelled and awaited before the DELETE is answered (``projectDeleted(_:)``), so nothing is sent for
/// it afterwards, not a retry waiting in its backoff nor a POST in flight.
final class WebhookDispatcher: Service, Sendable {
    /// Retry timing.
    struct Retry: Sendable {
        /// The first retry's delay.
        var baseMs: Int64 = 500
        /// The longest delay.
        var maxMs: Int64 = 60_000
        /// How long one POST may take, connecting included.
        var timeoutMs: Int64 = 10_000
    }

    /// A running delivery task; `generation` tells a task's own entry from a later one for the same project.
    private struct Worker {
        var generation: UInt64
        var task: Task<Void, Never>
    }

    static func cursorKey(_ projectId: ProjectID) -> String { "webhook.cursor.\(projectId)" }

    let service: BrokerService
    let reader: EventReader
    let store: any Store
    let time: any TimeSource
    let logger: Logger
    let retry: Retry
    private let statuses = Mutex<[ProjectID: WebhookStatus]>([:])
    /// Where the delivery of a webhook being added starts, until ``webhookAdded(_:at:)`` has stored it: a
    /// worker may start as soon as the broker has the webhook, before the store does.
    private let starting = Mutex<[ProjectID: UInt64]>([:])
    private let workers = Mutex<(next: UInt64, running: [ProjectID: Worker])>((0, [:]))

    init(service: BrokerService, store: any Store, time: any TimeSource, logger: Logger, retry: Retry = Retry()) {
        self.service = service
        self.store = store
        self.reader = EventReader(feed: service.feed, store: store)
        self.time = time
        self.logger = logger
        self.retry = retry
    }

    /// The delivery state of a project's webhook, if it has one.
    func status(of projectId: ProjectID) async -> WebhookStatus? {
        guard var status = statuses.withLock({ $0[projectId] }) else { return nil }
        let pending = (try? await store.events(after: status.deliveredCursor, projectId: projectId, limit: 1_000)) ?? []
        status.pending = pending.count
        status.pendingAtLeast = pending.count == 1_000
        return status
    }

    /// A webhook is about to be added to an existing project (before the broker has it): a delivery that
    /// starts before ``webhookAdded(_:at:)`` starts after `cursor` too.
    func webhookAdding(_ projectId: ProjectID, at cursor: UInt64) {
        starting.withLock { $0[projectId] = cursor }
    }

    /// The webhook was not added after all (the change was refused).
    func webhookNotAdded(_ projectId: ProjectID) {
        _ = starting.withLock { $0.removeValue(forKey: projectId) }
    }

    /// A webhook was added to an existing project: its delivery starts after `cursor` (not from the
    /// project's history). Does nothing if the project already has a delivery cursor.
    func webhookAdded(_ projectId: ProjectID, at cursor: UInt64) async throws {
        defer { webhookNotAdded(projectId) }
        guard try await store.setting(Self.cursorKey(projectId)) == nil else { return }
        try await store.setSetting(Self.cursorKey(projectId), String(cursor))
    }

    /// The project was deleted (the broker no longer has it): its delivery stops now. Cancels its task,
    /// whether it waits for events, sleeps before a retry or has a POST in flight (the request is
    /// cancelled), and returns once the task has ended. Its delivery cursor moves past everything the
    /// project left behind, so a new project with the same id does not inherit them.
    func projectDeleted(_ projectId: ProjectID) async {
        let worker = workers.withLock { $0.running.removeValue(forKey: projectId) }
        if let worker {
            worker.task.cancel()
            await worker.task.value
        }
        statuses.withLock { $0[projectId] = nil }
        let cursor = service.read { $0.cursor }
        try? await store.setSetting(Self.cursorKey(projectId), String(cursor))
    }

    /// Starts a worker for every project with a webhook, now and whenever events arrive, until shutdown;
    /// then stops the workers and shuts the HTTP client down.
    func run() async throws {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,  // a redirected POST would become a GET without the body
            timeout: .init(
                connect: .milliseconds(retry.timeoutMs), read: .milliseconds(retry.timeoutMs)))
        configuration.connectionPool.idleTimeout = .seconds(30)
        // A refused connection fails the attempt at once; the dispatcher's backoff does the retrying.
        configuration.connectionPool.retryConnectionEstablishment = false
        let http = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration,
            backgroundActivityLogger: logger)
        let subscription = service.feed.subscribe(idleAfter: .seconds(1))
        // Ends at graceful shutdown (or cancellation).
        for await _ in subscription.signals.cancelOnGracefulShutdown() {
            startWorkers(http: http)
        }
        subscription.finish()
        let stopping = workers.withLock { state in
            defer { state.running = [:] }
            return Array(state.running.values)
        }
        for worker in stopping { worker.task.cancel() }
        for worker in stopping { await worker.task.value }
        try? await http.shutdown()
        // A service must not return before it is asked to stop (the group would call that a failure).
        try? await gracefulShutdown()
    }

    /// A worker for each project that has a webhook and none yet.
    private func startWorkers(http: HTTPClient) {
        let configured = service.read { broker in
            broker.allProjects.filter { $0.policy.webhook != nil }.map(\.id)
        }
        workers.withLock { state in
            for projectId in configured where state.running[projectId] == nil {
                state.next += 1
                let generation = state.next
                let task = Task {
                    await self.deliver(projectId, http: http)
                    self.workers.withLock { state in
                        if state.running[projectId]?.generation == generation {
                            state.running[projectId] = nil
                        }
                    }
                }
                state.running[projectId] = Worker(generation: generation, task: task)
            }
        }
    }

    /// The webhook in force for a project: `nil` when it was removed or the project deleted.
    private func webhook(_ projectId: ProjectID) -> Webhook? {
        service.read { broker in (try? broker.project(projectId))?.policy.webhook }
    }

    /// One project's delivery loop: in cursor order, each event until a 2xx, then the next; stops when the
    /// webhook is removed, the project deleted, or the task cancelled.
    private func deliver(_ projectId: ProjectID, http: HTTPClient) async {
        guard let first = webhook(projectId) else { return }
        let stored = (try? await store.setting(Self.cursorKey(projectId))).flatMap { $0.flatMap(UInt64.init) }
        var cursor = stored ?? starting.withLock { $0[projectId] } ?? 0
        var persisted = cursor
        update(projectId) { $0 = $0 ?? WebhookStatus(url: first.url, deliveredCursor: cursor) }
        TetherMetrics.webhookProject(projectId)
        let subscription = service.feed.subscribe(idleAfter: .seconds(1))
        defer { subscription.finish() }
        var iterator = subscription.signals.makeAsyncIterator()
        var json = JSONWriter(capacity: 512)
        defer { update(projectId) { $0?.state = "idle" } }
        delivery: while !Task.isCancelled, webhook(projectId) != nil {
            let events: [Event]
            do {
                events = try await reader.read(after: cursor, projectId: projectId, limit: 100).events
            } catch {
                logger.warning("webhook: reading events failed", metadata: ["projectId": "\(projectId)"])
                events = []
            }
            if events.isEmpty {
                if persisted != cursor, (try? await store.setSetting(Self.cursorKey(projectId), String(cursor))) != nil
                {
                    persisted = cursor
                }
                update(projectId) { $0?.state = "idle" }
                guard await iterator.next() != nil else { break }
                continue
            }
            for event in events {
                json.reset()
                TetherAPI.Event(event).writeJSON(into: &json)
                guard await post(json.bytes, event: event, projectId: projectId, http: http) else { break delivery }
                cursor = event.cursor
                update(projectId) {
                    $0?.deliveredCursor = event.cursor
                    $0?.delivered += 1
                }
            }
            if (try? await store.setSetting(Self.cursorKey(projectId), String(cursor))) != nil { persisted = cursor }
        }
        if persisted != cursor { try? await store.setSetting(Self.cursorKey(projectId), String(cursor)) }
    }

    /// POSTs one event until a 2xx; `false` when cancelled (shutdown, project deleted) or the webhook was
    /// removed. Each attempt uses the webhook in force at that moment (a PATCH changes the URL and secret).
    private func post(_ body: [UInt8], event: Event, projectId: ProjectID, http: HTTPClient) async -> Bool {
        var attempt = 0
        while !Task.isCancelled, let webhook = webhook(projectId) {
            attempt += 1
            let started = time.now()
            update(projectId) {
                $0?.state = attempt == 1 ? "delivering" : "retrying"
                $0?.url = webhook.url
                $0?.headCursor = event.cursor
                $0?.attempts = attempt
                $0?.lastAttemptAt = started
                $0?.nextAttemptAt = nil
            }
            let outcome = await send(body, event: event, attempt: attempt, webhook: webhook, http: http)
            // A POST cut short by cancellation is no failure of the receiver's.
            if Task.isCancelled { return false }
            TetherMetrics.webhookDelivery(project: projectId, delivered: outcome == nil)
            guard let failure = outcome else {
                update(projectId) {
                    $0?.headCursor = nil
                    $0?.attempts = 0
                }
                return true
            }
            let delay = backoff(attempt: attempt)
            update(projectId) {
                $0?.state = "retrying"
                $0?.lastError = failure
                $0?.failures += 1
                $0?.nextAttemptAt = self.time.now() + delay
            }
            logger.notice(
                "webhook delivery failed",
                metadata: [
                    "projectId": "\(projectId)", "cursor": "\(event.cursor)", "attempt": "\(attempt)",
                    "error": "\(failure)", "retryInMs": "\(delay)",
                ])
            do {
                try await Task.sleep(for: .milliseconds(delay))
            } catch {
                return false
            }
        }
        return false
    }

    /// One POST; `nil` on a 2xx, else what went wrong in one line (``WebhookFailure``).
    private func send(
        _ body: [UInt8], event: Event, attempt: Int, webhook: Webhook, http: HTTPClient
    ) async -> String? {
        var request = HTTPClientRequest(url: webhook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        // Standard Webhooks: the id is the same on every attempt (receivers deduplicate on it), the timestamp
        // and signatures are the attempt's; a secret replaced within the overlap signs beside the new one.
        let now = time.now()
        let id = Self.webhookID(event)
        let timestamp = now / 1000
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(
            name: "webhook-signature",
            value: StandardWebhookSignature.header(
                id: id, timestamp: timestamp, body: body, secrets: webhook.signingSecrets(at: now)))
        // Deprecated (one release): the body alone, with the current secret.
        request.headers.add(
            name: "X-Tether-Signature", value: WebhookSignature.header(body: body, secret: webhook.secret))
        request.headers.add(name: "X-Tether-Event-Id", value: String(event.cursor))
        request.headers.add(name: "X-Tether-Event-Type", value: event.type.rawValue)
        request.headers.add(name: "X-Tether-Delivery-Attempt", value: String(attempt))
        request.headers.add(name: "User-Agent", value: "tether-webhook/1")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await http.execute(request, timeout: .milliseconds(retry.timeoutMs))
            let status = response.status.code
            // Read the answer to its end so the connection can be reused; its content does not matter.
            do {
                for try await _ in response.body {}
            } catch {
                if (200..<300).contains(status) { return nil }
            }
            return (200..<300).contains(status) ? nil : WebhookFailure.status(status)
        } catch {
            return WebhookFailure.describe(error, timeoutMs: retry.timeoutMs)
        }
    }

    /// The `webhook-id` of an event's deliveries: `evt_` and its cursor, the same on every attempt.
    static func webhookID(_ event: Event) -> String { "evt_\(event.cursor)" }

    /// Exponential backoff with jitter: between half and all of `min(max, base × 2^(attempt-1))`.
    func backoff(attempt: Int) -> Int64 {
        let ceiling = min(retry.maxMs, retry.baseMs << Int64(min(attempt - 1, 30)))
        return Int64.random(in: (ceiling / 2)...max(ceiling / 2, ceiling))
    }

    private func update(_ projectId: ProjectID, _ body: (inout WebhookStatus?) -> Void) {
        statuses.withLock { body(&$0[projectId]) }
    }
}
