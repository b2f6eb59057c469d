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

    init(row: Row) throws {
        reservation = Reservation(
            projectId: try row.decode(atIndex: 0), userId: try row.decode(atIndex: 1),
            concurrencyId: try row.decode(atIndex: 2), reservedUntil: try row.decode(atIndex: 3),
            userIp: try row.decode(atIndex: 4))
    }

    func databaseValues() throws -> [DatabaseValue] {
        let r = reservation
        return [
            r.projectId.databaseValue,  // project_id
            r.userId.databaseValue,  // user_id
            r.concurrencyId.databaseValue,  // concurrency_id
            r.reservedUntil.databaseValue,  // reserved_until
            r.userIp.databaseValueOrNull,  // user_ip
        ]
    }
}
