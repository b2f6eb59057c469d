import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TetherCore
import TetherStore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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
/// One task per project with a webhook, each with its own HTTP requests: a slow or dead receiver holds
/// up only its own project's webhook, never heartbeats, the API or other projects.
final class WebhookDispatcher: Service, Sendable {
    /// Retry timing.
    struct Retry: Sendable {
        /// The first retry's delay.
        var baseMs: Int64 = 500
        /// The longest delay.
        var maxMs: Int64 = 60_000
        /// How long one POST may take.
        var timeoutMs: Int64 = 10_000
    }

    static func cursorKey(_ projectId: ProjectID) -> String { "webhook.cursor.\(projectId)" }

    let service: BrokerService
    let reader: EventReader
    let store: any Store
    let time: any TimeSource
    let logger: Logger
    let retry: Retry
    private let statuses = Mutex<[ProjectID: WebhookStatus]>([:])
    private let running = Mutex<Set<ProjectID>>([])
    private let session: URLSession

    init(service: BrokerService, store: any Store, time: any TimeSource, logger: Logger, retry: Retry = Retry()) {
        self.service = service
        self.store = store
        self.reader = EventReader(feed: service.feed, store: store)
        self.time = time
        self.logger = logger
        self.retry = retry
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Double(retry.timeoutMs) / 1_000
        configuration.httpMaximumConnectionsPerHost = 4
        self.session = URLSession(configuration: configuration)
    }

    /// The delivery state of a project's webhook, if it has one.
    func status(of projectId: ProjectID) async -> WebhookStatus? {
        guard var status = statuses.withLock({ $0[projectId] }) else { return nil }
        let pending = (try? await store.events(after: status.deliveredCursor, projectId: projectId, limit: 1_000)) ?? []
        status.pending = pending.count
        status.pendingAtLeast = pending.count == 1_000
        return status
    }

    /// A webhook was added to an existing project: its delivery starts after `cursor` (not from the
    /// project's history). Does nothing if the project already has a delivery cursor.
    func webhookAdded(_ projectId: ProjectID, at cursor: UInt64) async throws {
        guard try await store.setting(Self.cursorKey(projectId)) == nil else { return }
        try await store.setSetting(Self.cursorKey(projectId), String(cursor))
    }

    /// Starts a worker for every project with a webhook, now and whenever events arrive, until shutdown.
    func run() async throws {
        let subscription = service.feed.subscribe(idleAfter: .seconds(1))
        await withDiscardingTaskGroup { group in
            // Ends at graceful shutdown; the workers are cancelled with the group.
            for await _ in subscription.signals.cancelOnGracefulShutdown() {
                let configured = self.service.read { broker in
                    broker.allProjects.filter { $0.policy.webhook != nil }.map(\.id)
                }
                for projectId in configured where self.running.withLock({ $0.insert(projectId).inserted }) {
                    group.addTask {
                        await self.deliver(projectId)
                        _ = self.running.withLock { $0.remove(projectId) }
                    }
                }
            }
            group.cancelAll()
        }
        // A service must not return before it is asked to stop (the group would call that a failure).
        try? await gracefulShutdown()
    }

    /// The webhook in force for a project: `nil` when it was removed; `.some(nil)` style is avoided by
    /// returning the project's presence separately.
    private func configuration(_ projectId: ProjectID) -> (exists: Bool, webhook: Webhook?) {
        service.read { broker in
            guard let project = try? broker.project(projectId) else { return (false, nil) }
            return (true, project.policy.webhook)
        }
    }

    /// One project's delivery loop: in cursor order, each event until a 2xx, then the next.
    private func deliver(_ projectId: ProjectID) async {
        guard var webhook = configuration(projectId).webhook else { return }
        var cursor = UInt64(
            (try? await store.setting(Self.cursorKey(projectId))).flatMap { $0.flatMap(UInt64.init) } ?? 0)
        var persisted = cursor
        update(projectId) { $0 = $0 ?? WebhookStatus(url: webhook.url, deliveredCursor: cursor) }
        let subscription = service.feed.subscribe(idleAfter: .seconds(1))
        defer { subscription.finish() }
        var iterator = subscription.signals.makeAsyncIterator()
        let encoder = JSONEncoder()
        defer { update(projectId) { $0?.state = "idle" } }
        while !Task.isCancelled {
            let now = configuration(projectId)
            if now.exists {
                // Removed: stop. Changed: the next attempt uses the new URL and secret.
                guard let current = now.webhook else { break }
                webhook = current
            }
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
                // A deleted project's last events (its sessions ending) are delivered; then the worker stops.
                guard now.exists else { break }
                update(projectId) { $0?.state = "idle" }
                guard await iterator.next() != nil else { break }
                continue
            }
            for event in events {
                guard let body = try? encoder.encode(event) else { continue }
                guard await post(body, event: event, projectId: projectId, webhook: webhook) else { return }
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

    /// POSTs one event until a 2xx; `false` when cancelled (shutdown) or the webhook was removed.
    private func post(_ body: Data, event: Event, projectId: ProjectID, webhook initial: Webhook) async -> Bool {
        var webhook = initial
        var attempt = 0
        while !Task.isCancelled {
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
            let outcome = await send(body, event: event, attempt: attempt, webhook: webhook)
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
            let now = configuration(projectId)
            if now.exists {
                guard let current = now.webhook else { return false }
                webhook = current
            }
        }
        return false
    }

    /// One POST; `nil` on a 2xx, else what went wrong.
    private func send(_ body: Data, event: Event, attempt: Int, webhook: Webhook) async -> String? {
        guard let url = URL(string: webhook.url) else { return "invalid URL" }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.timeoutInterval = Double(retry.timeoutMs) / 1_000
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(
            WebhookSignature.header(body: body, secret: webhook.secret), forHTTPHeaderField: "X-Tether-Signature")
        request.setValue(String(event.cursor), forHTTPHeaderField: "X-Tether-Event-Id")
        request.setValue(event.type.rawValue, forHTTPHeaderField: "X-Tether-Event-Type")
        request.setValue(String(attempt), forHTTPHeaderField: "X-Tether-Delivery-Attempt")
        request.setValue("tether-webhook/1", forHTTPHeaderField: "User-Agent")
        do {
            let (_, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return (200..<300).contains(status) ? nil : "HTTP \(status)"
        } catch {
            return String(describing: error).prefix(200).description
        }
    }

    /// Exponential backoff with jitter: between half and all of `min(max, base × 2^(attempt-1))`.
    func backoff(attempt: Int) -> Int64 {
        let ceiling = min(retry.maxMs, retry.baseMs << Int64(min(attempt - 1, 30)))
        return Int64.random(in: (ceiling / 2)...max(ceiling / 2, ceiling))
    }

    private func update(_ projectId: ProjectID, _ body: (inout WebhookStatus?) -> Void) {
        statuses.withLock { body(&$0[projectId]) }
    }
}
