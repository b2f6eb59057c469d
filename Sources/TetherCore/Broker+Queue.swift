// The waiting queue (API.md "Waiting queue"): queued applies, offers, leaving.
//
// The rule that holds after every command and every tick: a project with a waiting ticket has no idle
// concurrency. A concurrency freed (a session ended, a reservation or an offer lapsed, capacity raised) is
// offered to the head ticket (priority, then arrival) as a reservation for `queue.offerTtlMs` before the
// command or tick returns, so a plain apply can never take it while a ticket waits.
extension Broker {
    mutating func applyQueued(
        _ projectId: ProjectID, userId: UserID, userIp: String?, priority: Int, ticketId: TicketID
    ) throws(BrokerError) -> Reply {
        switch try queuedApply(projectId, userId: userId, userIp: userIp, priority: priority, ticketId: ticketId) {
        case .answered(let reply): return reply
        case .apply: return .applied(try apply(projectId, userId: userId, userIp: userIp))
        case .join(let ticket): return .queued(join(ticket))
        }
    }

    /// What a queued apply does.
    private enum QueuedApply {
        /// Answered from what is there (the same ticket, or its offer).
        case answered(Reply)
        /// A plain apply (an idle concurrency, the user's own, or no queue).
        case apply
        /// A new ticket.
        case join(QueueTicket)
    }

    /// Decides a queued apply from the project's state, without changing it (the state read here is released
    /// before anything changes: see ``join(_:)``).
    private func queuedApply(
        _ projectId: ProjectID, userId: UserID, userIp: String?, priority: Int, ticketId: TicketID
    ) throws(BrokerError) -> QueuedApply {
        guard let ps = projects[projectId] else { throw .projectNotFound(projectId) }
        try Validation.userID(userId)
        try Validation.metadata(userIp, field: "userIp")
        try Validation.range(priority, Limits.queuePriority, "priority")
        if let ticket = ps.queue.ticket(of: userId) {
            // Applying again while queued: the same ticket, its place now. An offered user gets the offer
            // as a plain apply would answer it, without extending it.
            if ticket.isOffered, let reservation = ps.reservations[userId] {
                return .answered(
                    .applied(
                        Applied(
                            concurrencyId: reservation.concurrencyId, reused: true,
                            reservedUntil: reservation.reservedUntil)))
            }
            return .answered(.queued(place(ticket, ps)))
        }
        let holds = ps.reservations[userId] != nil || ps.liveSessionByUser[userId] != nil
        if holds || ps.pool.idleCount > 0 || !ps.project.policy.queue.enabled { return .apply }
        guard ps.queue.count < ps.project.policy.queue.maxLength else {
            throw .queueFull(maxLength: ps.project.policy.queue.maxLength)
        }
        guard !ticketId.isEmpty, ps.queue.ticket(id: ticketId) == nil else {
            throw .invalidParameter(field: "ticketId", message: "is taken")
        }
        return .join(
            QueueTicket(
                ticketId: ticketId, projectId: projectId, userId: userId, priority: priority, seq: ps.queue.nextSeq,
                enqueuedAt: clock, userIp: userIp))
    }

    /// Adds a new ticket. No copy of the project's state may be held meanwhile: changing the queue in place
    /// would then copy its tables, O(tickets) per apply (`tether bench queue` showed it: 93 µs at 1 000
    /// tickets, 174 at 2 000).
    private mutating func join(_ ticket: QueueTicket) -> QueuePlace {
        let projectId = ticket.projectId
        projects[projectId]?.queue.add(ticket)
        effects.append(.saveTicket(ticket))
        guard let joined = projects[projectId].map({ place(ticket, $0) }) else {
            return QueuePlace(ticket: ticket, position: 0, etaMs: 0)
        }
        emitQueue(.queueJoined, ticket, data: EventData(ticketId: ticket.ticketId, position: joined.position))
        return joined
    }

    mutating func cancelTicket(_ projectId: ProjectID, _ userId: UserID) throws(BrokerError) -> QueueTicket {
        guard projects[projectId] != nil else { throw .projectNotFound(projectId) }
        guard let ticket = projects[projectId]?.queue.ticket(of: userId) else {
            throw .ticketNotFound(projectId, userId)
        }
        leaveQueue(ticket, .cancelled)
        // An offered concurrency goes back to the pool, hence to the next ticket.
        if ticket.isOffered { dropReservation(projectId, userId, at: clock) }
        return ticket
    }

    /// The reservation of a user lapsed: if it was an offer, the ticket leaves (the slot is released after).
    mutating func offerLapsed(_ projectId: ProjectID, _ userId: UserID) {
        guard let ticket = projects[projectId]?.queue.ticket(of: userId), ticket.isOffered else { return }
        leaveQueue(ticket, .offerExpired)
    }

    /// Removes a ticket and says why; its live client, if any, is told why and closed (unless it said `bye`).
    mutating func leaveQueue(_ ticket: QueueTicket, _ reason: QueueLeaveReason) {
        let client = projects[ticket.projectId]?.queue.clients[ticket.userId]?.connection
        guard projects[ticket.projectId]?.queue.remove(ticket.userId) != nil else { return }
        wheel.cancel(.queueClient(ticket.projectId, ticket.userId))
        if let client {
            let kick: KickReason =
                switch reason {
                case .taken, .left: .left
                case .cancelled, .projectDeleted: .destroyed
                case .offerExpired, .timeout: .expired
                }
            pendingKicks.append(Kick(connection: client, sessionId: ticket.ticketId, reason: kick))
        }
        effects.append(.deleteTicket(ticket.projectId, ticket.userId))
        emitQueue(.queueLeft, ticket, data: EventData(ticketId: ticket.ticketId, queueReason: reason))
    }

    /// Offers every idle concurrency of the projects where one was freed to their head tickets.
    mutating func serveQueues() {
        guard !queueDirty.isEmpty else { return }
        for projectId in queueDirty.sorted() { serveQueue(projectId) }
        queueDirty.removeAll(keepingCapacity: true)
    }

    /// The head ticket and its offer's deadline, when an idle concurrency waits for it.
    private func nextOffer(_ projectId: ProjectID) -> (head: QueueTicket, until: Millis)? {
        guard let ps = projects[projectId], ps.pool.idleCount > 0, let head = ps.queue.head else { return nil }
        return (head, clock + ps.project.policy.queue.offerTtlMs)
    }

    private mutating func serveQueue(_ projectId: ProjectID) {
        while let (head, until) = nextOffer(projectId) {
            guard let concurrencyId = projects[projectId]?.pool.acquire(for: .reservation(head.userId)) else { return }
            let reservation = Reservation(
                projectId: projectId, userId: head.userId, concurrencyId: concurrencyId, reservedUntil: until,
                userIp: head.userIp)
            projects[projectId]?.reservations[head.userId] = reservation
            wheel.arm(.reservation(projectId, head.userId), at: until)
            effects.append(.saveReservation(reservation))
            guard let offered = projects[projectId]?.queue.offer(head.userId, concurrencyId) else { return }
            effects.append(.saveTicket(offered))
            emitConcurrency(
                .concurrencyReserved, projectId: projectId, userId: head.userId, concurrencyId: concurrencyId,
                sessionId: nil, at: clock, data: EventData(deadlineAt: until, reused: false))
            emitQueue(.queueOffered, offered, data: EventData(deadlineAt: until, ticketId: offered.ticketId))
            if let client = projects[projectId]?.queue.clients[head.userId]?.connection {
                effects.append(
                    .queueNotice(
                        QueueNotice(
                            connection: client, ticketId: offered.ticketId,
                            kind: .offered(concurrencyId: concurrencyId, reservedUntil: until))))
            }
        }
    }

    private mutating func emitQueue(_ type: EventType, _ ticket: QueueTicket, data: EventData) {
        emitConcurrency(
            type, projectId: ticket.projectId, userId: ticket.userId,
            concurrencyId: ticket.offeredConcurrency ?? "", sessionId: nil, at: clock, data: data)
    }

    // MARK: - Queries

    /// A ticket's place: its position and estimated wait (or its offer).
    func place(_ ticket: QueueTicket, _ ps: ProjectState, eta: QueueETA? = nil) -> QueuePlace {
        if ticket.isOffered {
            return QueuePlace(
                ticket: ticket, position: 0, etaMs: 0, reservedUntil: ps.reservations[ticket.userId]?.reservedUntil)
        }
        let position = ps.queue.position(of: ticket.userId)
        return QueuePlace(ticket: ticket, position: position, etaMs: (eta ?? queueETA(ps)).etaMs(position: position))
    }

    /// What the project's pool says of the waits now.
    func queueETA(_ ps: ProjectState) -> QueueETA {
        var graceDeadlines: [Millis] = []
        var ages: Millis = 0
        var running = 0
        for id in ps.liveSessionByUser.values {
            guard let s = sessions[id] else { continue }
            if s.state == .grace, let deadline = s.deadlineAt {
                graceDeadlines.append(deadline)
            } else if s.state != .grace {
                running += 1
                ages += max(0, clock - s.createdAt)
            }
        }
        // A reservation (an apply, or an offer) holds a concurrency that will be a session.
        let reserved = ps.reservations.keys.reduce(0) { $0 + (ps.liveSessionByUser[$1] == nil ? 1 : 0) }
        let busy = running + reserved
        // Before any session of the project ended, its sessions are taken to last twice their mean age so far
        // (at least 1 s; 1 s while only reservations hold concurrencies).
        let guess: Millis? =
            running > 0 ? max(1_000, 2 * ages / Millis(running)) : (reserved > 0 ? 1_000 : nil)
        return QueueETA(now: clock, graceDeadlines: graceDeadlines, busy: busy, meanSessionMs: ps.lengths.mean ?? guess)
    }

    /// The project's queue, in order: offered tickets first, then the waiting ones by position.
    public func queue(_ projectId: ProjectID) throws(BrokerError) -> [QueuePlace] {
        guard let ps = projects[projectId] else { throw .projectNotFound(projectId) }
        let eta = queueETA(ps)
        return ps.queue.ordered.map { place($0, ps, eta: eta) }
    }

    /// One user's place in the project's queue.
    public func queuePlace(_ projectId: ProjectID, userId: UserID) throws(BrokerError) -> QueuePlace {
        guard let ps = projects[projectId] else { throw .projectNotFound(projectId) }
        guard let ticket = ps.queue.ticket(of: userId) else { throw .ticketNotFound(projectId, userId) }
        return place(ticket, ps)
    }

    /// The ticket with this id, in any project.
    public func ticket(_ projectId: ProjectID, id: TicketID) -> QueueTicket? {
        projects[projectId]?.queue.ticket(id: id)
    }

    /// Every ticket (for the snapshot and invariant checks).
    public var allTickets: [QueueTicket] {
        projects.values.flatMap { $0.queue.tickets.values }.sorted { ($0.projectId, $0.seq) < ($1.projectId, $1.seq) }
    }
}
