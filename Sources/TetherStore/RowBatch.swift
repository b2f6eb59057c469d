import TetherCore

/// A transaction's row changes reduced to what they leave behind, so that a store can write each table with
/// a few multi-row statements instead of one statement per change (docs/PERFORMANCE.md, "API on
/// PostgreSQL"). Records are written whole, so the last change of a key is its final state; the order of
/// different keys does not matter. The one change that reaches other rows, a project's deletion, also deletes
/// the project's reservations and tickets: those written before it in the transaction are dropped here, and the stores
/// delete the project's reservations before they write the ones written after it.
struct RowBatch: Sendable {
    typealias Values = [ColumnValue]

    /// A key's final state.
    enum Final: Sendable {
        case upsert(Values)
        case delete
    }

    /// Reservation keys.
    struct ReservationKey: Hashable, Sendable {
        var projectId: ProjectID
        var userId: UserID
    }

    /// Projects whose reservations are all deleted first (the projects deleted in the transaction).
    private(set) var cascades: [ProjectID] = []
    /// Each project's final state, in the order first changed.
    private(set) var projects: [(ProjectID, Final)] = []
    /// Each reservation's final state, in the order first changed.
    private(set) var reservations: [(ReservationKey, Final)] = []
    /// Each ticket's final state, in the order first changed.
    private(set) var tickets: [(ReservationKey, Final)] = []
    /// Each session's last values, in the order first changed.
    private(set) var sessions: [(SessionID, Values)] = []
    /// Events, in order.
    private(set) var events: [Values] = []
    /// Settings' last values, in the order first changed.
    private(set) var settings: [(String, String)] = []
    /// Audit records to append, in order.
    private(set) var audits: [Values] = []

    private var projectIndex: [ProjectID: Int] = [:]
    private var reservationIndex: [ReservationKey: Int] = [:]
    private var ticketIndex: [ReservationKey: Int] = [:]
    private var sessionIndex: [SessionID: Int] = [:]
    private var settingIndex: [String: Int] = [:]

    /// The batch of `changes`, in their order.
    init(_ changes: [RowChange]) {
        for change in changes {
            switch change {
            case .upsertProject(let values, let id): Self.set(id, .upsert(values), in: &projects, &projectIndex)
            case .deleteProject(let id):
                Self.set(id, .delete, in: &projects, &projectIndex)
                if !cascades.contains(id) { cascades.append(id) }
                // The deletion takes the project's reservations with it, whatever was written before.
                for (i, entry) in reservations.enumerated() where entry.0.projectId == id {
                    reservations[i].1 = .delete
                }
                for (i, entry) in tickets.enumerated() where entry.0.projectId == id { tickets[i].1 = .delete }
            case .upsertReservation(let values, let projectId, let userId):
                let key = ReservationKey(projectId: projectId, userId: userId)
                Self.set(key, .upsert(values), in: &reservations, &reservationIndex)
            case .deleteReservation(let projectId, let userId):
                let key = ReservationKey(projectId: projectId, userId: userId)
                Self.set(key, .delete, in: &reservations, &reservationIndex)
            case .upsertTicket(let values, let projectId, let userId):
                let key = ReservationKey(projectId: projectId, userId: userId)
                Self.set(key, .upsert(values), in: &tickets, &ticketIndex)
            case .deleteTicket(let projectId, let userId):
                let key = ReservationKey(projectId: projectId, userId: userId)
                Self.set(key, .delete, in: &tickets, &ticketIndex)
            case .upsertSession(let values, let id): Self.set(id, values, in: &sessions, &sessionIndex)
            case .insertEvent(let values, _): events.append(values)
            case .setting(let key, let value): Self.set(key, value, in: &settings, &settingIndex)
            case .insertAudit(let values): audits.append(values)
            }
        }
    }

    /// Sets `key`'s last value, in the order keys were first set.
    private static func set<Key: Hashable, Value>(
        _ key: Key, _ value: Value, in entries: inout [(Key, Value)], _ index: inout [Key: Int]
    ) {
        if let i = index[key] {
            entries[i].1 = value
        } else {
            index[key] = entries.count
            entries.append((key, value))
        }
    }

    /// The values of the keys whose final state is an upsert.
    static func upserts<Key>(_ entries: [(Key, Final)]) -> [Values] {
        entries.compactMap { if case .upsert(let values) = $0.1 { values } else { nil } }
    }

    /// The keys whose final state is a deletion.
    static func deletions<Key>(_ entries: [(Key, Final)]) -> [Key] {
        entries.compactMap { if case .delete = $0.1 { $0.0 } else { nil } }
    }
}
