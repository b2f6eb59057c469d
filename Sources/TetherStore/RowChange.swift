import TetherCore

/// One row change of a store's transaction, its column values already made (both stores bind `ColumnValue`s
/// themselves), so that the connection is held only for SQL.
enum RowChange: Sendable {
    typealias Values = [ColumnValue]

    case upsertProject(Values, id: ProjectID)
    case deleteProject(id: ProjectID)
    case upsertReservation(Values, projectId: ProjectID, userId: UserID)
    case deleteReservation(projectId: ProjectID, userId: UserID)
    case upsertSession(Values, id: SessionID)
    case upsertTicket(Values, projectId: ProjectID, userId: UserID)
    case deleteTicket(projectId: ProjectID, userId: UserID)
    case insertEvent(Values, cursor: Int64)
    case setting(key: String, value: String)
    case insertAudit(Values)

    /// The row changes of a transaction's writes, in order (effects that are not durable give none), and the
    /// highest event cursor among them.
    static func changes(_ writes: [StoreWrite]) throws -> (
        changes: [RowChange], cursor: Int64?
    ) {
        var changes: [RowChange] = []
        var cursor: Int64?
        for write in writes {
            switch write {
            case .setting(let key, let value):
                changes.append(.setting(key: key, value: value))
            case .effects(let effects):
                for effect in effects {
                    switch effect {
                    case .saveProject(let p):
                        changes.append(.upsertProject(try ProjectRecord(p).columnValues(), id: p.id))
                    case .deleteProject(let id): changes.append(.deleteProject(id: id))
                    case .saveReservation(let r):
                        changes.append(
                            .upsertReservation(
                                try ReservationRecord(r).columnValues(), projectId: r.projectId, userId: r.userId)
                        )
                    case .deleteReservation(let projectId, let userId):
                        changes.append(.deleteReservation(projectId: projectId, userId: userId))
                    case .saveSession(let s):
                        changes.append(.upsertSession(try SessionRecord(s).columnValues(), id: s.id))
                    case .saveTicket(let t):
                        changes.append(
                            .upsertTicket(
                                try QueueTicketRecord(t).columnValues(), projectId: t.projectId, userId: t.userId)
                        )
                    case .deleteTicket(let projectId, let userId):
                        changes.append(.deleteTicket(projectId: projectId, userId: userId))
                    case .event(let e):
                        let c = try signedColumn(e.cursor, "event cursor")
                        changes.append(.insertEvent(try EventRecord(e).columnValues(), cursor: c))
                        cursor = max(cursor ?? c, c)
                    case .audit(let record):
                        changes.append(.insertAudit(AuditRow.insertValues(record)))
                    case .kick, .queueNotice, .deadlineExpired, .deadlinesShifted, .sessionEnded: break
                    }
                }
            }
        }
        return (changes, cursor)
    }
}
