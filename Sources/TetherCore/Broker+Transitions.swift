// The shared mechanics of every transition: events, history, counts, deadlines, slots.
extension Broker {
    /// Emits a session event and records it in the session's history.
    mutating func emit(_ type: EventType, _ s: inout Session, at now: Millis, data: EventData = EventData()) {
        cursor += 1
        s.seq += 1
        s.updatedAt = now
        effects.append(
            .event(
                Event(
                    cursor: cursor, at: now, type: type, projectId: s.projectId, sessionId: s.id, userId: s.userId,
                    concurrencyId: s.concurrencyId, epoch: s.epoch, sessionSeq: s.seq, data: data)))
        s.history.append(
            HistoryEntry(at: now, type: type, state: s.state, epoch: s.epoch, cause: data.cause, reason: data.reason))
        if s.history.count > configuration.historyLimit {
            s.history.removeFirst(s.history.count - configuration.historyLimit)
        }
    }

    /// Emits a concurrency event about a session's slot: it carries the session's epoch and takes the next
    /// `sessionSeq`, as every event with a `sessionId` does (the session is not changed otherwise).
    mutating func emitConcurrency(_ type: EventType, of s: inout Session, at now: Millis, data: EventData) {
        cursor += 1
        s.seq += 1
        effects.append(
            .event(
                Event(
                    cursor: cursor, at: now, type: type, projectId: s.projectId, sessionId: s.id, userId: s.userId,
                    concurrencyId: s.concurrencyId, epoch: s.epoch, sessionSeq: s.seq, data: data)))
    }

    /// Emits a concurrency event that belongs to no session.
    mutating func emitConcurrency(
        _ type: EventType, projectId: ProjectID, userId: UserID, concurrencyId: ConcurrencyID, sessionId: SessionID?,
        at now: Millis, data: EventData
    ) {
        cursor += 1
        effects.append(
            .event(
                Event(
                    cursor: cursor, at: now, type: type, projectId: projectId, sessionId: sessionId, userId: userId,
                    concurrencyId: concurrencyId, epoch: nil, sessionSeq: nil, data: data)))
    }

    /// Moves a session to `state`, keeping the per-project counts.
    mutating func setState(_ s: inout Session, _ state: SessionState) {
        guard s.state != state else { return }
        projects[s.projectId]?.stateCounts[s.state, default: 0] -= 1
        if state != .ended { projects[s.projectId]?.stateCounts[state, default: 0] += 1 }
        s.state = state
    }

    /// Arms the session's deadline.
    mutating func arm(_ s: inout Session, at deadline: Millis) {
        s.deadlineAt = deadline
        wheel.arm(.session(s.id), at: deadline)
    }

    /// Detaches the session's connection and queues its kick.
    mutating func kickConnection(_ s: inout Session, _ reason: KickReason, retryAfterMs: Millis? = nil) {
        guard let connection = s.connection else { return }
        s.connection = nil
        s.lastHeartbeatAt = nil
        pendingKicks.append(Kick(connection: connection, sessionId: s.id, reason: reason, retryAfterMs: retryAfterMs))
    }

    /// Queues the kicks after the state changes they follow from.
    mutating func flushKicks() {
        guard !pendingKicks.isEmpty else { return }
        for kick in pendingKicks { effects.append(.kick(kick)) }
        pendingKicks.removeAll(keepingCapacity: true)
    }

    /// Stores the session and queues its save.
    mutating func save(_ s: Session) {
        sessions[s.id] = s
        effects.append(.saveSession(s))
    }

    /// A live connection was lost: grace, or the end when the project's grace is 0.
    mutating func lose(_ s: inout Session, cause: DisconnectCause, at now: Millis, graceMs: Millis? = nil) {
        guard let policy = projects[s.projectId]?.project.policy else { return }
        let grace = graceMs ?? policy.reconnectGraceMs
        s.lastCause = cause
        if grace == 0 {
            emit(.sessionDisconnected, &s, at: now, data: EventData(cause: cause, from: s.state))
            end(&s, cause == .heartbeatTimeout ? .heartbeatTimeout : .graceExpired, at: now)
            return
        }
        let from = s.state
        setState(&s, .grace)
        arm(&s, at: now + grace)
        emit(.sessionDisconnected, &s, at: now, data: EventData(cause: cause, deadlineAt: now + grace, from: from))
        save(s)
    }

    /// Ends a session: kicks its connection, frees its slot (unless the user's reservation holds it), and
    /// removes it from the live tables. The final record is saved.
    mutating func end(_ s: inout Session, _ reason: EndReason, at now: Millis) {
        let kickReason: KickReason =
            switch reason {
            case .destroyed, .projectDeleted: .destroyed
            case .left: .left
            case .graceExpired, .heartbeatTimeout, .neverConnected: .expired
            }
        kickConnection(&s, kickReason)
        let from = s.state
        setState(&s, .ended)
        s.endReason = reason
        s.endedAt = now
        s.deadlineAt = nil
        wheel.cancel(.session(s.id))
        emit(.sessionEnded, &s, at: now, data: EventData(reason: reason, from: from))
        forgetResumeTokens(&s)
        sessions.removeValue(forKey: s.id)
        defer {  // after the release, whose event takes the next sessionSeq
            effects.append(.saveSession(s))
            effects.append(.sessionEnded(s.id))
        }
        guard var ps = projects[s.projectId] else { return }
        projects[s.projectId] = nil  // keep the state uniquely referenced while it changes
        ps.liveSessionByUser.removeValue(forKey: s.userId)
        ps.lengths.add(now - s.createdAt)
        if let reservation = ps.reservations[s.userId], reservation.concurrencyId == s.concurrencyId {
            ps.pool.setHolder(.reservation(s.userId), of: s.concurrencyId)
            projects[s.projectId] = ps
        } else {
            let retired = ps.pool.release(s.concurrencyId)
            projects[s.projectId] = ps
            queueDirty.insert(s.projectId)
            emitConcurrency(.concurrencyReleased, of: &s, at: now, data: EventData(retired: retired ? true : nil))
        }
    }

    /// Removes a reservation; frees its slot unless the user's live session holds it.
    mutating func dropReservation(_ projectId: ProjectID, _ userId: UserID, at now: Millis) {
        guard var ps = projects[projectId], let reservation = ps.reservations.removeValue(forKey: userId) else {
            return
        }
        projects[projectId] = nil
        wheel.cancel(.reservation(projectId, userId))
        effects.append(.deleteReservation(projectId, userId))
        if case .reservation = ps.pool.holder(of: reservation.concurrencyId) {
            let retired = ps.pool.release(reservation.concurrencyId)
            projects[projectId] = ps
            queueDirty.insert(projectId)
            emitConcurrency(
                .concurrencyReleased, projectId: projectId, userId: userId, concurrencyId: reservation.concurrencyId,
                sessionId: nil, at: now, data: EventData(retired: retired ? true : nil))
        } else {
            projects[projectId] = ps
        }
    }
}
