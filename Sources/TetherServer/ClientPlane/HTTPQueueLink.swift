import Synchronization
import TetherCore
import TetherProtocol

/// The virtual connection of a queued client heartbeating over HTTP: its ``ConnectionMachine`` behind a lock
/// (held only while the machine runs), and the time it was last heard from, which the broker reads when the
/// client's silence deadline falls due (``LivenessReporting``).
final class HTTPQueueLink: Kickable, LivenessReporting, Sendable {
    let ticket: TicketID
    private let machine: Mutex<ConnectionMachine>
    private let heardRecord = HeardRecord()

    init(project: ProjectID, ticket: TicketID, now: Millis) {
        self.ticket = ticket
        self.machine = Mutex(ConnectionMachine(httpQueue: project, ticket: ticket, now: now))
    }

    /// Runs one input of the machine.
    func run(_ input: (inout ConnectionMachine) -> ConnectionActions) -> ConnectionActions {
        machine.withLock { input(&$0) }
    }

    /// The virtual connection's id (0 before its first attachment).
    var connection: ConnectionID { machine.withLock { $0.connection } }

    func kick(_ kick: Kick) { _ = run { $0.kicked(kick) } }

    func notify(_ notice: QueueNotice) { _ = run { $0.noticed(notice) } }

    /// Records the client as heard from `at`, silent past `until`.
    func heard(at: Millis, until: Millis) { heardRecord.record(at: at, until: until) }

    var liveness: (lastSeenAt: Millis, deadlineAt: Millis)? { heardRecord.liveness }
}

/// The HTTP links of the queued clients heartbeating over HTTP, by ticket.
final class HTTPQueueLinks: Sendable {
    private let table = Mutex<[TicketID: HTTPQueueLink]>([:])

    /// The link of a ticket's queue token (made at its first heartbeat).
    func link(project: ProjectID, ticket: TicketID, now: Millis) -> HTTPQueueLink {
        table.withLock { t in
            if let link = t[ticket] { return link }
            let link = HTTPQueueLink(project: project, ticket: ticket, now: now)
            t[ticket] = link
            return link
        }
    }

    /// Forgets a link whose ticket left.
    func remove(_ link: HTTPQueueLink) {
        table.withLock { t in
            if t[link.ticket] === link { t.removeValue(forKey: link.ticket) }
        }
    }
}
