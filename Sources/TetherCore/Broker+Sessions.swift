// ApplyConcurrent, CreateSession, DestroySession.
extension Broker {
    mutating func apply(_ projectId: ProjectID, userId: UserID, userIp: String?) throws(BrokerError) -> Applied {
        // Taken out while it changes and put back after, so its tables are never copied: O(1), not O(sessions).
        guard var ps = projects.removeValue(forKey: projectId) else { throw .projectNotFound(projectId) }
        defer { projects[projectId] = ps }
        try Validation.userID(userId)
        try Validation.metadata(userIp, field: "userIp")
        let now = clock
        let until = now + ps.project.policy.reservationTtlMs
        let concurrencyId: ConcurrencyID
        let reused: Bool
        if let existing = ps.reservations[userId] {
            concurrencyId = existing.concurrencyId
            reused = true
        } else if let sessionId = ps.liveSessionByUser[userId], let s = sessions[sessionId] {
            concurrencyId = s.concurrencyId
            reused = true
        } else {
            guard let acquired = ps.pool.acquire(for: .reservation(userId)) else {
                throw .noIdle(retryAfterMs: retryAfter(ps, now: now))
            }
            concurrencyId = acquired
            reused = false
        }
        let reservation = Reservation(
            projectId: projectId, userId: userId, concurrencyId: concurrencyId, reservedUntil: until, userIp: userIp)
        ps.reservations[userId] = reservation
        wheel.arm(.reservation(projectId, userId), at: until)
        effects.append(.saveReservation(reservation))
        let data = EventData(deadlineAt: until, reused: reused)
        if let sessionId = ps.liveSessionByUser[userId], var s = sessions[sessionId] {
            // The user's live session holds this concurrency: the event is also the session's, and its
            // sessionSeq is kept (saved) so that it keeps growing across a restart.
            emitConcurrency(.concurrencyReserved, of: &s, at: now, data: data)
            sessions[sessionId] = s
            effects.append(.saveSession(s))
        } else {
            emitConcurrency(
                .concurrencyReserved, projectId: projectId, userId: userId, concurrencyId: concurrencyId,
                sessionId: nil, at: now, data: data)
        }
        return Applied(concurrencyId: concurrencyId, reused: reused, reservedUntil: until)
    }

    /// The time until the project's next slot is due to be freed by a deadline, within sane bounds.
    func retryAfter(_ ps: ProjectState, now: Millis) -> Millis {
        var soonest: Millis?
        for reservation in ps.reservations.values where ps.liveSessionByUser[reservation.userId] == nil {
            soonest = min(soonest ?? .max, reservation.reservedUntil)
        }
        for id in ps.liveSessionByUser.values {
            guard let s = sessions[id], s.state == .grace || s.state == .created, let d = s.deadlineAt else { continue }
            soonest = min(soonest ?? .max, d)
        }
        guard let soonest else { return configuration.defaultRetryAfterMs }
        return min(max(soonest - now, 100), 60_000)
    }

    mutating func createSession(
        _ projectId: ProjectID, userId: UserID, sessionId: SessionID, metadata: SessionMetadata
    ) throws(BrokerError) -> Session {
        // Only values are read out of the project's state: a copy of it held here would make every write
        // below copy its tables (O(sessions) per creation).
        guard let policy = projects[projectId]?.project.policy else { throw .projectNotFound(projectId) }
        try Validation.userID(userId)
        try Validation.metadata(metadata.userIp, field: "userIp")
        try Validation.metadata(metadata.clientSession, field: "clientSession")
        try Validation.metadata(metadata.runMode, field: "runMode")
        try Validation.metadata(metadata.parameters, field: "parameters")
        let now = clock
        let connectDeadline = now + policy.connectTimeoutMs
        let reservation = projects[projectId]?.reservations[userId]

        if let existingId = projects[projectId]?.liveSessionByUser[userId], var s = sessions[existingId] {
            // A new epoch of the user's session: the older connection is fenced off.
            guard reservation != nil || s.state == .grace else { throw .lockTimeout(userId) }
            consumeReservation(projectId, userId)
            s.epoch += 1
            s.metadata = metadata
            forgetResumeTokens(&s)
            if s.state == .connected || s.state == .suspended {
                kickConnection(&s, .replaced)
                let from = s.state
                setState(&s, .grace)
                s.lastCause = .replaced
                emit(.sessionDisconnected, &s, at: now, data: EventData(cause: .replaced, from: from))
            }
            arm(&s, at: connectDeadline)
            emit(.sessionCreated, &s, at: now, data: EventData(deadlineAt: connectDeadline))
            save(s)
            return s
        }

        guard let reservation else { throw .lockTimeout(userId) }
        guard sessions[sessionId] == nil, !sessionId.isEmpty else {
            throw .invalidParameter(field: "sessionId", message: "is taken")
        }
        consumeReservation(projectId, userId)
        var s = Session(
            id: sessionId, projectId: projectId, userId: userId, concurrencyId: reservation.concurrencyId, epoch: 1,
            state: .created, createdAt: now, metadata: metadata)
        projects[projectId]?.pool.setHolder(.session(sessionId), of: reservation.concurrencyId)
        projects[projectId]?.liveSessionByUser[userId] = sessionId
        projects[projectId]?.stateCounts[.created, default: 0] += 1
        arm(&s, at: connectDeadline)
        emit(.sessionCreated, &s, at: now, data: EventData(deadlineAt: connectDeadline))
        save(s)
        return s
    }

    /// Removes a reservation that CreateSession turns into a session (its slot stays held).
    private mutating func consumeReservation(_ projectId: ProjectID, _ userId: UserID) {
        guard projects[projectId]?.reservations.removeValue(forKey: userId) != nil else { return }
        wheel.cancel(.reservation(projectId, userId))
        effects.append(.deleteReservation(projectId, userId))
        // An offer taken: the ticket leaves the queue.
        if let ticket = projects[projectId]?.queue.ticket(of: userId), ticket.isOffered { leaveQueue(ticket, .taken) }
    }

    mutating func destroy(_ id: SessionID) throws(BrokerError) -> Session {
        guard var s = sessions[id] else { throw .sessionNotFound(id) }
        end(&s, .destroyed, at: clock)
        return s
    }
}
