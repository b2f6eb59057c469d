import GRDB
import TetherCore

/// A reservation as a row of `reservations`, keyed by project and user.
struct ReservationRecord: ColumnRecord {
    static let databaseTableName = "reservations"

    /// The columns, in the order ``init(row:)`` reads them.
    static let columns = ["project_id", "user_id", "concurrency_id", "reserved_until", "user_ip"]

    static let primaryKey = ["project_id", "user_id"]

    /// The reservation.
    var reservation: Reservation

    init(_ reservation: Reservation) {
        self.reservation = reservation
    }

    init(columns row: some ColumnRow) throws {
        reservation = Reservation(
            projectId: try row.requiredText(at: 0), userId: try row.requiredText(at: 1),
            concurrencyId: try row.requiredText(at: 2), reservedUntil: try row.requiredInteger(at: 3),
            userIp: try row.text(at: 4))
    }

    func columnValues() throws -> [ColumnValue] {
        let r = reservation
        return [
            .text(r.projectId),  // project_id
            .text(r.userId),  // user_id
            .text(r.concurrencyId),  // concurrency_id
            .integer(r.reservedUntil),  // reserved_until
            ColumnValue(r.userIp),  // user_ip
        ]
    }
}
