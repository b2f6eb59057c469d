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

    /// The rows of the given projects alone (what a node loads to take those projects over), with the same
    /// cursor.
    public func only(_ projectIds: Set<ProjectID>) -> BrokerSnapshot {
        BrokerSnapshot(
            projects: projects.filter { projectIds.contains($0.id) },
            sessions: sessions.filter { projectIds.contains($0.projectId) },
            reservations: reservations.filter { projectIds.contains($0.projectId) },
            tickets: tickets.filter { projectIds.contains($0.projectId) }, cursor: cursor)
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

    /// Rebuilds a broker at `now` from what the store kept: an empty broker that adopts every project of the
    /// snapshot (``adopt(_:)``), whose first event gets the cursor after the snapshot's.
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
        adoptRows(snapshot)
    }

    /// The projects this broker holds.
    public var projectIds: Set<ProjectID> { Set(projects.keys) }

    /// Takes over the projects of `snapshot` (a project's rows as the store keeps them) at the broker's time,
    /// exactly as a restart restores them (``init(configuration:restoring:at:)``), beside the projects it
    /// holds already, which are untouched; returns the adoption's transitions (the lost connections' grace,
    /// queue offers). The rows of a project this broker holds already are ignored: one owner per project is
    /// the shell's rule (a lease per project), and adopting twice would count its slots twice. The next
    /// event's cursor is after both the broker's and the snapshot's.
    public mutating func adopt(_ snapshot: BrokerSnapshot) -> [Effect] {
        let held = projectIds
        var rows = snapshot
        rows.projects.removeAll { held.contains($0.id) }
        rows.sessions.removeAll { held.contains($0.projectId) }
        rows.reservations.removeAll { held.contains($0.projectId) }
        rows.tickets.removeAll { held.contains($0.projectId) }
        cursor = max(cursor, snapshot.cursor)
        adoptRows(rows)
        flushKicks()
        return takeEffects()
    }

    /// Gives up a project without ending anything: its sessions, reservations, tickets and deadlines leave this
    /// broker, which writes nothing (the rows stay as they are, for the project's next owner to adopt), and each
    /// of its live connections (sessions' and queued clients') is kicked `shutdown` with `retryAfterMs`, so that
    /// its client comes back, to the new owner, with its resume token. A project this broker does not hold gives
    /// nothing. Returns the kicks.
    public mutating func release(_ projectId: ProjectID, retryAfterMs: Millis?) -> [Effect] {
        guard let state = projects.removeValue(forKey: projectId) else { return [] }
        queueDirty.remove(projectId)
        for userId in state.reservations.keys { _ = wheel.cancel(.reservation(projectId, userId)) }
        for (userId, client) in state.queue.clients {
            _ = wheel.cancel(.queueClient(projectId, userId))
            if let connection = client.connection, let ticket = state.queue.ticket(of: userId) {
                pendingKicks.append(
                    Kick(
                        connection: connection, sessionId: ticket.ticketId, reason: .shutdown,
                        retryAfterMs: retryAfterMs))
            }
        }
        for sessionId in state.liveSessionByUser.values.sorted() {
            guard var s = sessions.removeValue(forKey: sessionId) else { continue }
            _ = wheel.cancel(.session(sessionId))
            if let hash = s.resumeTokenHash, resumeIndex[hash] == sessionId { resumeIndex.removeValue(forKey: hash) }
            if let hash = s.previousResumeTokenHash, resumeIndex[hash] == sessionId {
                resumeIndex.removeValue(forKey: hash)
            }
            kickConnection(&s, .shutdown, retryAfterMs: retryAfterMs)
        }
        flushKicks()
        return takeEffects()
    }

    /// Adds the rows of projects this broker does not hold, as a restart restores them.
    private mutating func adoptRows(_ snapshot: BrokerSnapshot) {
        let now = clock
        for project in snapshot.projects {
            // An empty pool: the held slots are restored first, then the capacity adds idle slots around them.
            projects[project.id] = ProjectState(project: project, pool: SlotPool(projectId: project.id, capacity: 0))
        }
        let adopted = Set(snapshot.projects.map(\.id))
        for r in snapshot.reservations where adopted.contains(r.projectId) {
            projects[r.projectId]?.reservations[r.userId] = r
            wheel.arm(.reservation(r.projectId, r.userId), at: r.reservedUntil)
        }
        sessions.reserveCapacity(sessions.count + snapshot.sessions.count)
        resumeIndex.reserveCapacity(resumeIndex.count + snapshot.sessions.count)
        for var s in snapshot.sessions.sorted(by: { $0.id < $1.id })
        where adopted.contains(s.projectId) && s.state.isLive {
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
        for r in snapshot.reservations where adopted.contains(r.projectId) {
            projects[r.projectId]?.pool.restore(.reservation(r.userId), of: r.concurrencyId)
        }
        for id in adopted {
            if let capacity = projects[id]?.project.policy.capacity { projects[id]?.pool.setCapacity(capacity) }
        }
        // Tickets keep their order (priority, then arrival) and their offers (whose deadlines are their
        // reservations'); an offer whose reservation is gone waits again. Any idle concurrency then goes to the
        // head tickets, with the restart's other transitions.
        for var ticket in snapshot.tickets.sorted(by: { $0.seq < $1.seq }) where adopted.contains(ticket.projectId) {
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
