import TetherCore

/// Durable state and the event log behind a broker.
///
/// The shell runs the broker on one executor and, right after each command, hands the command's effects to
/// ``enqueue(_:)`` *synchronously*, so the store sees batches in the broker's order. The shell then awaits
/// ``CommitTicket/durable()`` before it acknowledges the command: everything the API acknowledges is
/// committed first. Batches enqueued while a transaction is being written go into the next transaction
/// together (group commit: one fsync for many requests).
///
/// Multi-node: a PostgreSQL implementation shared by several processes implements the same protocol.
/// Projects are the unit of ownership (one node's broker owns a project at a time, through a lease row
/// with a deadline); `Event.cursor` comes from a sequence; cross-node notices use LISTEN/NOTIFY. Nothing
/// here assumes a single process: every write is an upsert of a whole record keyed by its id.
public protocol Store: Sendable {
    /// Creates or migrates the schema and returns what rebuilds the broker: projects, live sessions,
    /// reservations and the last event cursor.
    func load() async throws -> BrokerSnapshot

    /// Creates or migrates the schema without reading the broker's state (``load()`` does that too).
    func migrate() async throws

    /// Queues the durable effects of one command (or advance of time), in order; other effects (kicks,
    /// metrics) are ignored. Never blocks on I/O.
    func enqueue(_ effects: [Effect]) -> CommitTicket

    /// A session, live or ended.
    func session(_ id: SessionID) async throws -> Session?

    /// The sessions of a project, newest first, optionally in one state (ended ones included).
    func sessions(in projectId: ProjectID, state: SessionState?, limit: Int) async throws -> [Session]

    /// Events after `cursor`, in cursor order, optionally of one project.
    func events(after cursor: UInt64, projectId: ProjectID?, limit: Int) async throws -> [Event]

    /// The audit records after `id`, oldest first, at most `limit` (written as `Effect.audit`).
    func audit(after id: Int64, limit: Int) async throws -> [AuditRecord]

    /// Deletes old events (retention): every event but the newest `keepLast`, and every event that happened
    /// before `before` (Unix ms). Returns how many were deleted. The cursor never goes back.
    func pruneEvents(keepLast: Int, before: Millis) async throws -> Int

    /// The highest cursor deleted by ``pruneEvents(keepLast:before:)`` so far (0 when none was): a reader
    /// resuming from a lower cursor has missed events.
    func eventsPrunedThrough() async throws -> UInt64

    /// A server setting (API key hashes, the token secret), if set.
    func setting(_ key: String) async throws -> String?

    /// Sets a server setting durably.
    func setSetting(_ key: String, _ value: String) async throws

    /// Writes what is queued and closes.
    func close() async throws
}

extension Store {
    /// Migrates by loading (a store whose migration is cheaper implements its own).
    public func migrate() async throws {
        _ = try await load()
    }
}
