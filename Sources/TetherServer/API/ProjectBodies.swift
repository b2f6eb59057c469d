import TetherCore
import TetherProtocol

// The project bodies (TetherProtocol's `TetherAPI`) as the core's policy and patch.

extension TetherAPI.CreateProjectRequest {
    /// The policy, absent fields taking the contract's defaults.
    var policy: Policy {
        let d = Policy()
        return Policy(
            capacity: capacity ?? d.capacity,
            heartbeat: .init(
                intervalMs: heartbeat?.intervalMs ?? d.heartbeat.intervalMs,
                timeoutMs: heartbeat?.timeoutMs ?? d.heartbeat.timeoutMs),
            reconnectGraceMs: reconnectGraceMs ?? d.reconnectGraceMs,
            reservationTtlMs: reservationTtlMs ?? d.reservationTtlMs,
            connectTimeoutMs: connectTimeoutMs ?? d.connectTimeoutMs,
            maxSuspendMs: maxSuspendMs ?? d.maxSuspendMs,
            webhook: webhook.map { Webhook(url: $0.url, secret: $0.secret) },
            queue: QueuePolicy(
                enabled: queue?.enabled ?? d.queue.enabled, offerTtlMs: queue?.offerTtlMs ?? d.queue.offerTtlMs,
                maxLength: queue?.maxLength ?? d.queue.maxLength,
                clientTimeoutMs: queue?.clientTimeoutMs ?? d.queue.clientTimeoutMs),
            allowedOrigins: allowedOrigins)
    }
}

extension TetherAPI.UpdateProjectRequest {
    /// The change to the project.
    var patch: ProjectPatch {
        var change: ProjectPatch.WebhookChange?
        switch webhook {
        case .set(let setting): change = .set(Webhook(url: setting.url, secret: setting.secret))
        case .remove: change = .remove
        case nil: change = nil
        }
        return ProjectPatch(
            name: name, capacity: capacity, heartbeatIntervalMs: heartbeat?.intervalMs,
            heartbeatTimeoutMs: heartbeat?.timeoutMs, reconnectGraceMs: reconnectGraceMs,
            reservationTtlMs: reservationTtlMs, connectTimeoutMs: connectTimeoutMs, maxSuspendMs: maxSuspendMs,
            webhook: change,
            queue: queue.map {
                QueuePatch(
                    enabled: $0.enabled, offerTtlMs: $0.offerTtlMs, maxLength: $0.maxLength,
                    clientTimeoutMs: $0.clientTimeoutMs)
            }, allowedOrigins: allowedOrigins)
    }
}
