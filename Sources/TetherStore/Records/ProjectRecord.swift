import GRDB
import TetherCore

/// A project as a row of `projects`: its policy flattened into columns, the webhook as nullable columns
/// (`webhook_url`, `webhook_secret`, both set or both NULL; `webhook_previous_secret` and
/// `webhook_previous_secret_until`, the secret a change replaced and when it stops signing), the allowed
/// origins one per line (`allowed_origins`, NULL for any).
struct ProjectRecord: ColumnRecord {
    static let databaseTableName = "projects"

    /// The columns, in the order ``init(row:)`` reads them.
    static let columns = [
        "id", "name", "capacity", "heartbeat_interval_ms", "heartbeat_timeout_ms", "reconnect_grace_ms",
        "reservation_ttl_ms", "connect_timeout_ms", "max_suspend_ms", "webhook_url", "webhook_secret", "created_at",
        "updated_at", "queue_enabled", "queue_offer_ttl_ms", "queue_max_length", "queue_client_timeout_ms",
        "webhook_previous_secret", "webhook_previous_secret_until", "allowed_origins",
    ]

    static let primaryKey = ["id"]

    /// The project.
    var project: Project

    init(_ project: Project) {
        self.project = project
    }

    init(columns row: some ColumnRow) throws {
        var webhook: Webhook?
        switch (try row.text(at: 9), try row.text(at: 10)) {
        case (let url?, let secret?):
            webhook = Webhook(
                url: url, secret: secret, previousSecret: try row.text(at: 17),
                previousSecretUntil: try row.integer(at: 18))
        case (nil, nil): webhook = nil
        default: throw StoreError.corruptRecord("project webhook: url and secret must both be set or both be NULL")
        }
        let policy = Policy(
            capacity: try row.int(at: 2),
            heartbeat: .init(intervalMs: try row.requiredInteger(at: 3), timeoutMs: try row.requiredInteger(at: 4)),
            reconnectGraceMs: try row.requiredInteger(at: 5), reservationTtlMs: try row.requiredInteger(at: 6),
            connectTimeoutMs: try row.requiredInteger(at: 7), maxSuspendMs: try row.requiredInteger(at: 8),
            webhook: webhook,
            queue: QueuePolicy(
                enabled: try row.boolean(at: 13) ?? false, offerTtlMs: try row.requiredInteger(at: 14),
                maxLength: try row.int(at: 15), clientTimeoutMs: try row.requiredInteger(at: 16)),
            allowedOrigins: try row.text(at: 19).map(Self.origins(from:)))
        project = Project(
            id: try row.requiredText(at: 0), name: try row.requiredText(at: 1), policy: policy,
            createdAt: try row.requiredInteger(at: 11), updatedAt: try row.requiredInteger(at: 12))
    }

    func columnValues() throws -> [ColumnValue] {
        let p = project
        return [
            .text(p.id),  // id
            .text(p.name),  // name
            ColumnValue(p.policy.capacity),  // capacity
            .integer(p.policy.heartbeat.intervalMs),  // heartbeat_interval_ms
            .integer(p.policy.heartbeat.timeoutMs),  // heartbeat_timeout_ms
            .integer(p.policy.reconnectGraceMs),  // reconnect_grace_ms
            .integer(p.policy.reservationTtlMs),  // reservation_ttl_ms
            .integer(p.policy.connectTimeoutMs),  // connect_timeout_ms
            .integer(p.policy.maxSuspendMs),  // max_suspend_ms
            ColumnValue(p.policy.webhook?.url),  // webhook_url
            ColumnValue(p.policy.webhook?.secret),  // webhook_secret
            .integer(p.createdAt),  // created_at
            .integer(p.updatedAt),  // updated_at
            .boolean(p.policy.queue.enabled),  // queue_enabled
            .integer(p.policy.queue.offerTtlMs),  // queue_offer_ttl_ms
            ColumnValue(p.policy.queue.maxLength),  // queue_max_length
            .integer(p.policy.queue.clientTimeoutMs),  // queue_client_timeout_ms
            ColumnValue(p.policy.webhook?.previousSecret),  // webhook_previous_secret
            ColumnValue(p.policy.webhook?.previousSecretUntil),  // webhook_previous_secret_until
            ColumnValue(p.policy.allowedOrigins.map { $0.joined(separator: "\n") }),  // allowed_origins
        ]
    }

    /// `allowed_origins`: the origins one per line (an origin holds no line break); `''` is the empty list,
    /// NULL any origin.
    static func origins(from text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}
