import GRDB
import TetherCore

/// A waiting-queue ticket as a row of `queue_tickets`, keyed by project and user (one ticket per user).
struct QueueTicketRecord: ColumnRecord {
    static let databaseTableName = "queue_tickets"

    /// The columns, in the order ``init(row:)`` reads them.
    static let columns = [
        "project_id", "user_id", "ticket_id", "priority", "seq", "enqueued_at", "user_ip", "offered_concurrency",
    ]

    static let primaryKey = ["project_id", "user_id"]

    /// The ticket.
    var ticket: QueueTicket

    init(_ ticket: QueueTicket) {
        self.ticket = ticket
    }

    init(columns row: some ColumnRow) throws {
        ticket = QueueTicket(
            ticketId: try row.requiredText(at: 2), projectId: try row.requiredText(at: 0),
            userId: try row.requiredText(at: 1), priority: try row.int(at: 3), seq: try row.unsigned(at: 4),
            enqueuedAt: try row.requiredInteger(at: 5), userIp: try row.text(at: 6),
            offeredConcurrency: try row.text(at: 7))
    }

    func columnValues() throws -> [ColumnValue] {
        let t = ticket
        return [
            .text(t.projectId),  // project_id
            .text(t.userId),  // user_id
            .text(t.ticketId),  // ticket_id
            ColumnValue(t.priority),  // priority
            .integer(try signedColumn(t.seq, "ticket seq")),  // seq
            .integer(t.enqueuedAt),  // enqueued_at
            ColumnValue(t.userIp),  // user_ip
            ColumnValue(t.offeredConcurrency),  // offered_concurrency
        ]
    }
}
