/// What the store keeps of a broker: enough to rebuild it after a restart or a crash.
public struct BrokerSnapshot: Sendable, Hashable {
    /// Every project.
    public var projects: [Project]
    /// Every live session (not ended).
    public var sessions: [Session]
    /// Every reservation.
    public var reservations: [Reservation]
    /// Every waiting-queue ticket.
    public var tickets: [QueueTicket]
    /// The cursor of the last event written.
    public var cursor: UInt64

    /// Creates a snapshot.
    public init(
        projects: [Project], sessions: [Session], reservations: [Reservation], tickets: [QueueTicket] = [],
        cursor: UInt64
    ) {
        self.projects = projects
        self.sessions = sessions
        self.reservations = reservations
        self.tickets = tickets
        self.cursor = cursor
    }
}

extension Broker {
    /// The durable part of the broker's state.
    public var snapshot: BrokerSnapshot {
        BrokerSnapshot(
            projects: allProjects, sessions: sessions.values.sorted { $0.id < $1.id },
            reservations: allReservations.sorted { ($0.projectId, $0.userId) < ($1.projectId, $1.userId) },
            tickets: allTickets, cursor: cursor)
    }

    /// Rebuilds a broker at `now` from what the store kept.
    ///
    /// Sessions whose connections were lost in the restart (connected or suspended) go to grace for a full
    /// window from `now` with cause ``BrokerConfiguration/restoredConnectionCause``: `shutdown` (a restart: at
    /// least `restartGraceFloorMs`) or `nodeLost` (a takeover: the project's grace window); sessions already in grace
    /// keep their absolute deadline, created sessions their connect deadline, reservations theirs. Deadlines
    /// that passed while the server was down are processed by the first advance.
    public init(
        configuration: BrokerConfiguration = BrokerConfiguration(), restoring snapshot: BrokerSnapshot, at now: Millis
    ) {
        self.init(configuration: configuration, now: now, cursor: snapshot.cursor)
        for project in snapshot.projects {
            // An empty pool: the held slots are restored first, then the capacity adds idle slots around them.
            projects[project.id] = ProjectState(project: project, pool: SlotPool(projectId: project.id, capacity: 0))
        }
        for r in snapshot.reservations where projects[r.projectId] != nil {
            projects[r.projectId]?.reservations[r.userId] = r
            wheel.arm(.reservation(r.projectId, r.userId), at: r.reservedUntil)
        }
        sessions.reserveCapacity(snapshot.sessions.count)
        resumeIndex.reserveCapacity(snapshot.sessions.count)
        for var s in snapshot.sessions.sorted(by: { $0.id < $1.id })
        where projects[s.projectId] != nil && s.state.isLive {
            s.connection = nil
            s.lastHeartbeatAt = nil
            if let hash = s.resumeTokenHash { resumeIndex[hash] = s.id }
            if let hash = s.previousResumeTokenHash { resumeIndex[hash] = s.id }
            projects[s.projectId]?.pool.restore(.session(s.id), of: s.concurrencyId)
            projects[s.projectId]?.liveSessionByUser[s.userId] = s.id
            projects[s.projectId]?.stateCounts[s.state, default: 0] += 1
            sessions[s.id] = s
            if s.state == .connected || s.state == .suspended {
                let grace = projects[s.projectId]?.project.policy.reconnectGraceMs ?? 0
                let cause = configuration.restoredConnectionCause
                let floor = cause == .nodeLost ? 0 : configuration.restartGraceFloorMs
                lose(&s, cause: cause, at: now, graceMs: max(grace, floor))
            } else if let deadline = s.deadlineAt {
                wheel.arm(.session(s.id), at: deadline)
            } else {
                wheel.arm(.session(s.id), at: now)
            }
        }
        for r in snapshot.reservations where projects[r.projectId] != nil {
            projects[r.projectId]?.pool.restore(.reservation(r.userId), of: r.concurrencyId)
        }
        for (id, state) in projects {
            projects[id]?.pool.setCapacity(state.project.policy.capacity)
        }
        // Tickets keep their order (priority, then arrival) and their offers (whose deadlines are their
        // reservations'); an offer whose reservation is gone waits again. Any idle concurrency then goes to the
        // head tickets, with the restart's other transitions.
        for var ticket in snapshot.tickets.sorted(by: { $0.seq < $1.seq }) where projects[ticket.projectId] != nil {
            if let offered = ticket.offeredConcurrency,
                projects[ticket.projectId]?.reservations[ticket.userId]?.concurrencyId != offered
            {
                ticket.offeredConcurrency = nil
            }
            projects[ticket.projectId]?.queue.add(ticket)
            queueDirty.insert(ticket.projectId)
        }
        serveQueues()
    }
}
