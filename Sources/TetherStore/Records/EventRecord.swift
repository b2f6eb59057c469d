import GRDB
import TetherCore

/// An event as a row of `events`: one column per field, the type-specific `data` fields included (NULL when
/// the event has none). The cursor is the primary key; events are only ever inserted.
struct EventRecord: ColumnRecord {
    static let databaseTableName = "events"

    /// The columns, in the order ``init(row:)`` reads them.
    static let columns = [
        "cursor", "at", "type", "project_id", "session_id", "user_id", "concurrency_id", "epoch", "session_seq",
        "cause", "reason", "deadline_at", "reused", "transport", "suspend_reason", "retired", "from_state",
    ]

    static let primaryKey = ["cursor"]

    /// The event.
    var event: Event

    init(_ event: Event) {
        self.event = event
    }

    init(row: Row) throws {
        let data = EventData(
            cause: try row.decodeRawIfPresent(DisconnectCause.self, atIndex: 9),
            reason: try row.decodeRawIfPresent(EndReason.self, atIndex: 10),
            deadlineAt: try row.decode(atIndex: 11), reused: try row.decode(atIndex: 12),
            transport: try row.decodeRawIfPresent(Transport.self, atIndex: 13),
            suspendReason: try row.decodeRawIfPresent(SuspendReason.self, atIndex: 14),
            retired: try row.decode(atIndex: 15), from: try row.decodeRawIfPresent(SessionState.self, atIndex: 16))
        event = Event(
            cursor: try row.decodeUnsigned(atIndex: 0), at: try row.decode(atIndex: 1),
            type: try row.decodeRaw(EventType.self, atIndex: 2), projectId: try row.decode(atIndex: 3),
            sessionId: try row.decode(atIndex: 4), userId: try row.decode(atIndex: 5),
            concurrencyId: try row.decode(atIndex: 6), epoch: try row.decodeUnsignedIfPresent(atIndex: 7),
            sessionSeq: try row.decodeUnsignedIfPresent(atIndex: 8), data: data)
    }

    func databaseValues() throws -> [DatabaseValue] {
        let e = event
        return [
            try signedColumn(e.cursor, "event cursor").databaseValue,  // cursor
            e.at.databaseValue,  // at
            e.type.rawValue.databaseValue,  // type
            e.projectId.databaseValue,  // project_id
            e.sessionId.databaseValueOrNull,  // session_id
            e.userId.databaseValue,  // user_id
            e.concurrencyId.databaseValue,  // concurrency_id
            try optionalSignedColumn(e.epoch, "epoch").databaseValueOrNull,  // epoch
            try optionalSignedColumn(e.sessionSeq, "sessionSeq").databaseValueOrNull,  // session_seq
            (e.data.cause?.rawValue).databaseValueOrNull,  // cause
            (e.data.reason?.rawValue).databaseValueOrNull,  // reason
            e.data.deadlineAt.databaseValueOrNull,  // deadline_at
            e.data.reused.databaseValueOrNull,  // reused
            (e.data.transport?.rawValue).databaseValueOrNull,  // transport
            (e.data.suspendReason?.rawValue).databaseValueOrNull,  // suspend_reason
            e.data.retired.databaseValueOrNull,  // retired
            (e.data.from?.rawValue).databaseValueOrNull,  // from_state
        ]
    }
}
