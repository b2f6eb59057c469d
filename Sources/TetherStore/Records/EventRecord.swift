import GRDB
import TetherCore

/// An event as a row of `events`: one column per field, the type-specific `data` fields included (NULL when
/// the event has none). The cursor is the primary key; events are only ever inserted.
struct EventRecord: ColumnRecord {
    static let databaseTableName = "events"

    /// The index of `cursor` in ``columns`` (a store that gives cursors at commit rewrites it).
    static let cursorColumn = 0

    /// The columns, in the order ``init(row:)`` reads them.
    static let columns = [
        "cursor", "at", "type", "project_id", "session_id", "user_id", "concurrency_id", "epoch", "session_seq",
        "cause", "reason", "deadline_at", "reused", "transport", "suspend_reason", "retired", "from_state",
        "ticket_id", "position",
    ]

    static let primaryKey = ["cursor"]

    /// The event.
    var event: Event

    init(_ event: Event) {
        self.event = event
    }

    init(columns row: some ColumnRow) throws {
        let type = try row.raw(EventType.self, at: 2)
        // `reason` holds a session's end reason, or a ticket's for `queue.left`.
        let isQueueLeft = type == .queueLeft
        let data = EventData(
            cause: try row.rawIfPresent(DisconnectCause.self, at: 9),
            reason: isQueueLeft ? nil : try row.rawIfPresent(EndReason.self, at: 10),
            deadlineAt: try row.integer(at: 11), reused: try row.boolean(at: 12),
            transport: try row.rawIfPresent(Transport.self, at: 13),
            suspendReason: try row.rawIfPresent(SuspendReason.self, at: 14),
            retired: try row.boolean(at: 15), from: try row.rawIfPresent(SessionState.self, at: 16),
            ticketId: try row.text(at: 17), position: try row.integer(at: 18).map { Int($0) },
            queueReason: isQueueLeft ? try row.rawIfPresent(QueueLeaveReason.self, at: 10) : nil)
        event = Event(
            cursor: try row.unsigned(at: 0), at: try row.requiredInteger(at: 1),
            type: type, projectId: try row.requiredText(at: 3),
            sessionId: try row.text(at: 4), userId: try row.requiredText(at: 5),
            concurrencyId: try row.requiredText(at: 6), epoch: try row.unsignedIfPresent(at: 7),
            sessionSeq: try row.unsignedIfPresent(at: 8), data: data)
    }

    func columnValues() throws -> [ColumnValue] {
        let e = event
        return [
            .integer(try signedColumn(e.cursor, "event cursor")),  // cursor
            .integer(e.at),  // at
            .text(e.type.rawValue),  // type
            .text(e.projectId),  // project_id
            ColumnValue(e.sessionId),  // session_id
            .text(e.userId),  // user_id
            .text(e.concurrencyId),  // concurrency_id
            ColumnValue(try optionalSignedColumn(e.epoch, "epoch")),  // epoch
            ColumnValue(try optionalSignedColumn(e.sessionSeq, "sessionSeq")),  // session_seq
            ColumnValue(raw: e.data.cause),  // cause
            e.data.queueReason.map { ColumnValue(raw: $0) } ?? ColumnValue(raw: e.data.reason),  // reason
            ColumnValue(e.data.deadlineAt),  // deadline_at
            ColumnValue(e.data.reused),  // reused
            ColumnValue(raw: e.data.transport),  // transport
            ColumnValue(raw: e.data.suspendReason),  // suspend_reason
            ColumnValue(e.data.retired),  // retired
            ColumnValue(raw: e.data.from),  // from_state
            ColumnValue(e.data.ticketId),  // ticket_id
            ColumnValue(e.data.position.map { Int64($0) }),  // position
        ]
    }
}
