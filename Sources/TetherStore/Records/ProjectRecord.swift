import GRDB
import TetherCore

/// A project as a row of `projects`: its policy flattened into columns, the webhook as two nullable
/// columns (`webhook_url`, `webhook_secret`, both set or both NULL).
struct ProjectRecord: ColumnRecord {
    static let databaseTableName = "projects"

    /// The columns, in the order ``init(row:)`` reads them.
    static let columns = [
        "id", "name", "capacity", "heartbeat_interval_ms", "heartbeat_timeout_ms", "reconnect_grace_ms",
        "reservation_ttl_ms", "connect_timeout_ms", "max_suspend_ms", "webhook_url", "webhook_secret", "created_at",
        "updated_at",
    ]

    static let primaryKey = ["id"]

    /// The project.
    var project: Project

    init(_ project: Project) {
        self.project = project
    }

    init(row: Row) throws {
        let url: String? = try row.decode(atIndex: 9)
        let secret: String? = try row.decode(atIndex: 10)
        var webhook: Webhook?
        switch (url, secret) {
        case (let url?, let secret?): webhook = Webhook(url: url, secret: secret)
        case (nil, nil): webhook = nil
        default: throw StoreError.corruptRecord("project webhook: url and secret must both be set or both be NULL")
        }
        let policy = Policy(
            capacity: try row.decode(atIndex: 2),
            heartbeat: .init(intervalMs: try row.decode(atIndex: 3), timeoutMs: try row.decode(atIndex: 4)),
            reconnectGraceMs: try row.decode(atIndex: 5), reservationTtlMs: try row.decode(atIndex: 6),
            connectTimeoutMs: try row.decode(atIndex: 7), maxSuspendMs: try row.decode(atIndex: 8), webhook: webhook)
        project = Project(
            id: try row.decode(atIndex: 0), name: try row.decode(atIndex: 1), policy: policy,
            createdAt: try row.decode(atIndex: 11), updatedAt: try row.decode(atIndex: 12))
    }

    func databaseValues() throws -> [DatabaseValue] {
        let p = project
        return [
            p.id.databaseValue,  // id
            p.name.databaseValue,  // name
            p.policy.capacity.databaseValue,  // capacity
            p.policy.heartbeat.intervalMs.databaseValue,  // heartbeat_interval_ms
            p.policy.heartbeat.timeoutMs.databaseValue,  // heartbeat_timeout_ms
            p.policy.reconnectGraceMs.databaseValue,  // reconnect_grace_ms
            p.policy.reservationTtlMs.databaseValue,  // reservation_ttl_ms
            p.policy.connectTimeoutMs.databaseValue,  // connect_timeout_ms
            p.policy.maxSuspendMs.databaseValue,  // max_suspend_ms
            (p.policy.webhook?.url).databaseValueOrNull,  // webhook_url
            (p.policy.webhook?.secret).databaseValueOrNull,  // webhook_secret
            p.createdAt.databaseValue,  // created_at
            p.updatedAt.databaseValue,  // updated_at
        ]
    }
}
