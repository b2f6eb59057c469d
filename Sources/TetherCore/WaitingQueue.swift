/// One project's waiting queue: its tickets by user, and the waiting ones in order (priority, higher first,
/// then arrival), with a user's position and the head in O(log n) (a ``RankedSequence`` per priority).
/// Offered tickets stay (until CreateSession or the offer lapses) but no longer wait: their position is 0.
struct WaitingQueue: Sendable {
    /// The priorities a ticket may have.
    static let priorities = 0...9

    /// A queued user's live client (`hello {queueToken}`), in memory only.
    struct Client: Sendable, Hashable {
        /// Its connection; nil once it closed (the ticket waits `clientTimeoutMs` from `lastSeenAt` for another).
        var connection: ConnectionID?
        /// When it was last heard from (its hello, or what the shell said when it closed).
        var lastSeenAt: Millis
        /// The place it was last told.
        var sentPosition: Int
        var sentEtaMs: Millis
        /// When it was last told its place (its hello's answer, or a push).
        var toldAt: Millis = 0
        /// Which of the push round's slots looks at it (``Broker/queuePushSlots``): a stable hash of its user.
        var slot: Int = 0
    }

    /// Every ticket, waiting or offered, by user.
    private(set) var tickets: [UserID: QueueTicket] = [:]
    /// The live clients of tickets, by user.
    var clients: [UserID: Client] = [:]
    private var userBySeq: [UInt64: UserID] = [:]
    private var userByTicket: [TicketID: UserID] = [:]
    /// The waiting tickets' sequence numbers, per priority.
    private var levels = Array(repeating: RankedSequence(), count: WaitingQueue.priorities.count)
    /// The next ticket's sequence number.
    private(set) var nextSeq: UInt64 = 1

    /// Tickets, waiting or offered.
    var count: Int { tickets.count }
    /// Tickets waiting for a concurrency.
    var waitingCount: Int { levels.reduce(0) { $0 + $1.count } }

    /// The ticket of a user.
    func ticket(of userId: UserID) -> QueueTicket? { tickets[userId] }

    /// The ticket with this id.
    func ticket(id: TicketID) -> QueueTicket? { userByTicket[id].flatMap { tickets[$0] } }

    /// Adds a ticket (a new one, or one read back from the store); a waiting one takes its place in order.
    mutating func add(_ ticket: QueueTicket) {
        tickets[ticket.userId] = ticket
        userBySeq[ticket.seq] = ticket.userId
        userByTicket[ticket.ticketId] = ticket.userId
        if !ticket.isOffered { levels[ticket.priority].insert(ticket.seq) }
        nextSeq = max(nextSeq, ticket.seq + 1)
    }

    /// Removes the ticket of a user.
    @discardableResult
    mutating func remove(_ userId: UserID) -> QueueTicket? {
        guard let ticket = tickets.removeValue(forKey: userId) else { return nil }
        clients.removeValue(forKey: userId)
        userBySeq.removeValue(forKey: ticket.seq)
        userByTicket.removeValue(forKey: ticket.ticketId)
        levels[ticket.priority].remove(ticket.seq)
        return ticket
    }

    /// Marks the ticket of a user offered `concurrencyId`: it stops waiting.
    mutating func offer(_ userId: UserID, _ concurrencyId: ConcurrencyID) -> QueueTicket? {
        guard var ticket = tickets[userId] else { return nil }
        levels[ticket.priority].remove(ticket.seq)
        ticket.offeredConcurrency = concurrencyId
        tickets[userId] = ticket
        return ticket
    }

    /// The waiting ticket that gets the next free concurrency.
    var head: QueueTicket? {
        for priority in Self.priorities.reversed() {
            if let seq = levels[priority].first, let user = userBySeq[seq] { return tickets[user] }
        }
        return nil
    }

    /// 1 for the head, n for the last waiting ticket; 0 for an offered one (or none).
    func position(of userId: UserID) -> Int {
        guard let ticket = tickets[userId], !ticket.isOffered else { return 0 }
        var ahead = 0
        for priority in Self.priorities where priority > ticket.priority { ahead += levels[priority].count }
        return ahead + levels[ticket.priority].rank(of: ticket.seq)
    }

    /// Every ticket in queue order: offered ones first (by arrival), then the waiting ones by position.
    var ordered: [QueueTicket] {
        var out = tickets.values.filter(\.isOffered).sorted { $0.seq < $1.seq }
        for priority in Self.priorities.reversed() {
            for seq in levels[priority].members {
                if let user = userBySeq[seq], let t = tickets[user] { out.append(t) }
            }
        }
        return out
    }
}
