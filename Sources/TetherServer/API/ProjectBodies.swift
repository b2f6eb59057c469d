import TetherCore

/// The body of `POST /v1/projects`; absent policy fields take the contract's defaults.
struct CreateProjectBody: Decodable, Sendable {
    struct Heartbeat: Decodable, Sendable {
        var intervalMs: Millis?
        var timeoutMs: Millis?
    }
    var id: String
    var name: String?
    var capacity: Int?
    var heartbeat: Heartbeat?
    var reconnectGraceMs: Millis?
    var reservationTtlMs: Millis?
    var connectTimeoutMs: Millis?
    var maxSuspendMs: Millis?
    var webhook: Webhook?

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
            webhook: webhook)
    }
}

/// The body of `PATCH /v1/projects/{projectId}`: absent fields stay, `"webhook": null` removes the webhook.
struct UpdateProjectBody: Decodable, Sendable {
    var patch: ProjectPatch

    private enum Keys: String, CodingKey {
        case name, capacity, heartbeat, reconnectGraceMs, reservationTtlMs, connectTimeoutMs, maxSuspendMs, webhook
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let heartbeat = try c.decodeIfPresent(CreateProjectBody.Heartbeat.self, forKey: .heartbeat)
        var webhook: ProjectPatch.WebhookChange?
        if c.contains(.webhook) {
            webhook =
                try c.decodeNil(forKey: .webhook) ? .remove : .set(c.decode(Webhook.self, forKey: .webhook))
        }
        patch = ProjectPatch(
            name: try c.decodeIfPresent(String.self, forKey: .name),
            capacity: try c.decodeIfPresent(Int.self, forKey: .capacity),
            heartbeatIntervalMs: heartbeat?.intervalMs, heartbeatTimeoutMs: heartbeat?.timeoutMs,
            reconnectGraceMs: try c.decodeIfPresent(Millis.self, forKey: .reconnectGraceMs),
            reservationTtlMs: try c.decodeIfPresent(Millis.self, forKey: .reservationTtlMs),
            connectTimeoutMs: try c.decodeIfPresent(Millis.self, forKey: .connectTimeoutMs),
            maxSuspendMs: try c.decodeIfPresent(Millis.self, forKey: .maxSuspendMs), webhook: webhook)
    }
}
