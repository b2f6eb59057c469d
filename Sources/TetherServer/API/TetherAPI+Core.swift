import TetherCore
import TetherProtocol

// The API's bodies (TetherProtocol's `TetherAPI`, shared with the SDK) filled from the core's types.

extension TetherAPI.Project {
    /// A project as the API shows it: the policy flattened beside the id, the webhook's URL only.
    init(_ p: Project) {
        self.init(
            id: p.id, name: p.name, capacity: p.policy.capacity,
            heartbeat: .init(intervalMs: p.policy.heartbeat.intervalMs, timeoutMs: p.policy.heartbeat.timeoutMs),
            reconnectGraceMs: p.policy.reconnectGraceMs, reservationTtlMs: p.policy.reservationTtlMs,
            connectTimeoutMs: p.policy.connectTimeoutMs, maxSuspendMs: p.policy.maxSuspendMs,
            webhook: p.policy.webhook.map { WebhookView(url: $0.url) },
            queue: TetherAPI.QueuePolicy(
                enabled: p.policy.queue.enabled, offerTtlMs: p.policy.queue.offerTtlMs,
                maxLength: p.policy.queue.maxLength, clientTimeoutMs: p.policy.queue.clientTimeoutMs),
            allowedOrigins: p.policy.allowedOrigins, createdAt: p.createdAt, updatedAt: p.updatedAt)
    }
}

extension TetherAPI.Applied {
    /// ApplyConcurrent's answer.
    init(_ a: Applied) {
        self.init(concurrencyId: a.concurrencyId, reused: a.reused, reservedUntil: a.reservedUntil)
    }
}

extension TetherAPI.ConcurrencyCount {
    /// DescribeConcurrentCount's answer.
    init(_ c: ConcurrencyCount) {
        self.init(
            total: c.total, idle: c.idle, reserved: c.reserved, running: c.running, created: c.created,
            connected: c.connected, suspended: c.suspended, grace: c.grace)
    }
}

extension TetherAPI.PoolSample {
    /// One sample of a project's pool history.
    init(_ s: PoolSample) {
        self.init(
            at: s.at, total: s.total, idle: s.idle, reserved: s.reserved, created: s.created, connected: s.connected,
            suspended: s.suspended, grace: s.grace, queued: s.queued)
    }
}

extension TetherAPI.HistoryEntry {
    /// One transition.
    init(_ h: HistoryEntry) {
        self.init(
            at: h.at, type: h.type.rawValue, state: h.state.rawValue, epoch: h.epoch, cause: h.cause?.rawValue,
            reason: h.reason?.rawValue)
    }
}

extension TetherAPI.Session {
    /// A session as the API shows it (never its resume token), with the stats given.
    init(_ s: Session, stats: TetherAPI.SessionStats = .empty) {
        self.init(
            sessionId: s.id, projectId: s.projectId, userId: s.userId, concurrencyId: s.concurrencyId,
            epoch: s.epoch, state: s.state.rawValue, createdAt: s.createdAt, updatedAt: s.updatedAt)
        endReason = s.endReason?.rawValue
        lastCause = s.lastCause?.rawValue
        deadlineAt = s.deadlineAt
        endedAt = s.endedAt
        lastHeartbeatAt = s.lastHeartbeatAt
        transport = s.transport?.rawValue
        userIp = s.metadata.userIp
        clientSession = s.metadata.clientSession
        runMode = s.metadata.runMode
        parameters = s.metadata.parameters.flatMap { try? StrictJSONDecoder().decode(JSONValue.self, from: $0.utf8) }
        history = s.history.map(TetherAPI.HistoryEntry.init)
        self.stats = stats
    }
}

extension TetherAPI.Event {
    /// An event as the feed, SSE and webhooks show it.
    init(_ e: Event) {
        let offered = e.type == .queueOffered
        self.init(
            cursor: e.cursor, at: e.at, type: e.type.rawValue, projectId: e.projectId, sessionId: e.sessionId,
            userId: e.userId, concurrencyId: e.concurrencyId, epoch: e.epoch, sessionSeq: e.sessionSeq,
            data: TetherAPI.EventData(
                cause: e.data.cause?.rawValue, reason: e.data.reason?.rawValue ?? e.data.queueReason?.rawValue,
                deadlineAt: offered ? nil : e.data.deadlineAt, reused: e.data.reused,
                transport: e.data.transport?.rawValue, suspendReason: e.data.suspendReason?.rawValue,
                retired: e.data.retired, from: e.data.from?.rawValue, ticketId: e.data.ticketId,
                position: e.data.position, concurrencyId: offered ? e.concurrencyId : nil,
                reservedUntil: offered ? e.data.deadlineAt : nil))
    }
}
