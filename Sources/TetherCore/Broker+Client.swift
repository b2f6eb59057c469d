// The client channel's transitions: hello, resume, heartbeat, suspend, bye, lost connections, shutdown.
extension Broker {
    mutating func hello(
        _ id: SessionID, epoch: UInt64, connection: ConnectionID, transport: Transport, hash: String,
        origin: String? = nil
    ) throws(BrokerError) -> Session {
        guard var s = sessions[id] else { throw .sessionNotFound(id) }
        guard epoch == s.epoch else { throw .fenced(id) }
        try checkOrigin(origin, project: s.projectId)
        forgetPreviousResumeToken(&s)
        attach(&s, connection: connection, transport: transport, hash: hash)
        return s
    }

    mutating func resume(
        _ hash: String, connection: ConnectionID, transport: Transport, newHash: String, origin: String? = nil
    ) throws(BrokerError) -> Session {
        guard let id = resumeIndex[hash], var s = sessions[id] else { throw .badToken }
        try checkOrigin(origin, project: s.projectId)
        switch ResumeTokenRule.judge(
            hash, current: s.resumeTokenHash, previous: s.previousResumeTokenHash,
            previousUntil: s.previousResumeTokenUntil, now: clock)
        {
        case .current:
            // The token is spent, but stays accepted for a short while in case this welcome is lost.
            forgetPreviousResumeToken(&s)
            s.previousResumeTokenHash = hash
            s.previousResumeTokenUntil = clock + configuration.resumeRetryWindowMs
        case .retry:
            // The client never saw the last welcome: answered again, with a new epoch and a new token.
            break
        case .refused:
            // An older token, or the previous one past its window: forgotten.
            resumeIndex.removeValue(forKey: hash)
            if s.previousResumeTokenHash == hash {
                s.previousResumeTokenHash = nil
                s.previousResumeTokenUntil = nil
                sessions[id] = s
            }
            throw .badToken
        }
        s.epoch += 1
        attach(&s, connection: connection, transport: transport, hash: newHash)
        return s
    }

    /// Drops the spent resume token that was still accepted for a retry.
    mutating func forgetPreviousResumeToken(_ s: inout Session) {
        if let previous = s.previousResumeTokenHash, previous != s.resumeTokenHash {
            resumeIndex.removeValue(forKey: previous)
        }
        s.previousResumeTokenHash = nil
        s.previousResumeTokenUntil = nil
    }

    /// Drops every resume token of the session (it ended, or a new CreateSession epoch began).
    mutating func forgetResumeTokens(_ s: inout Session) {
        forgetPreviousResumeToken(&s)
        if let hash = s.resumeTokenHash { resumeIndex.removeValue(forKey: hash) }
        s.resumeTokenHash = nil
    }

    /// Attaches a new connection of the session's current epoch, replacing any older one.
    private mutating func attach(_ s: inout Session, connection: ConnectionID, transport: Transport, hash: String) {
        let now = clock
        guard let policy = projects[s.projectId]?.project.policy else { return }
        if let old = s.connection, old != connection {
            kickConnection(&s, .replaced)
            if s.state == .connected || s.state == .suspended {
                emit(.sessionDisconnected, &s, at: now, data: EventData(cause: .replaced, from: s.state))
            }
        }
        if let oldHash = s.resumeTokenHash, oldHash != s.previousResumeTokenHash {
            resumeIndex.removeValue(forKey: oldHash)
        }
        s.resumeTokenHash = hash
        resumeIndex[hash] = s.id
        let from = s.state
        s.connection = connection
        s.transport = transport
        s.lastHeartbeatAt = now
        s.lastCause = nil
        setState(&s, .connected)
        armHeartbeat(&s, at: now + policy.heartbeat.timeoutMs)
        let type: EventType = s.everConnected ? .sessionReconnected : .sessionConnected
        s.everConnected = true
        emit(type, &s, at: now, data: EventData(transport: transport, from: from))
        save(s)
    }

    /// The hot path: re-arms the heartbeat deadline. Touches nothing durable unless the session was suspended.
    ///
    /// Reads go through the tables' indexes (`values[index]` is borrowed, not copied): copying a `Session` or
    /// a `ProjectState` out of its dictionary to read one field retains every reference inside it, which was
    /// most of this function's cost.
    mutating func heartbeat(_ id: SessionID, connection: ConnectionID, endsSuspension: Bool = true) throws(BrokerError)
    {
        guard let index = sessions.index(forKey: id) else { throw .sessionNotFound(id) }
        guard sessions.values[index].connection == connection else { throw .fenced(id) }
        guard let projectIndex = projects.index(forKey: sessions.values[index].projectId) else { return }
        let timeout = projects.values[projectIndex].project.policy.heartbeat.timeoutMs
        let now = clock
        if sessions.values[index].state == .suspended {
            guard endsSuspension else { return }
            var s = sessions.values[index]
            setState(&s, .connected)
            s.lastHeartbeatAt = now
            armHeartbeat(&s, at: now + timeout)
            emit(.sessionConnected, &s, at: now, data: EventData(transport: s.transport, from: .suspended))
            save(s)
            return
        }
        // The shell records this connection's heartbeats itself; the deadline is checked when it falls due.
        if isWatchedByShell(sessions.values[index]) { return }
        sessions.values[index].lastHeartbeatAt = now
        sessions.values[index].deadlineAt = now + timeout
        wheel.arm(.session(id), at: now + timeout)
    }

    /// Whether the shell watches the liveness of the session's connection (``BrokerConfiguration/shellWatchedTransports``).
    func isWatchedByShell(_ s: Session) -> Bool {
        guard let transport = s.transport else { return false }
        return configuration.shellWatchedTransports.contains(transport)
    }

    /// Arms the heartbeat deadline of a connected session. For a connection the shell watches, heartbeats do
    /// not move it: when it falls due, ``advance(to:heard:)`` checks when the shell last heard from the
    /// connection and moves it then.
    mutating func armHeartbeat(_ s: inout Session, at deadline: Millis) {
        arm(&s, at: deadline)
    }

    mutating func suspend(
        _ id: SessionID, connection: ConnectionID, expectedMs: Millis, reason: SuspendReason
    ) throws(BrokerError) -> Session {
        try Validation.range(expectedMs, Limits.expectedMs, "expectedMs")
        guard var s = sessions[id] else { throw .sessionNotFound(id) }
        guard s.connection == connection else { throw .fenced(id) }
        guard let policy = projects[s.projectId]?.project.policy else { throw .sessionNotFound(id) }
        let now = clock
        // A suspension may lengthen the deadline up to maxSuspendMs, never shorten it below the timeout.
        let deadline = now + max(policy.heartbeat.timeoutMs, min(expectedMs, policy.maxSuspendMs))
        let from = s.state
        setState(&s, .suspended)
        s.lastHeartbeatAt = now
        arm(&s, at: deadline)
        emit(.sessionSuspended, &s, at: now, data: EventData(deadlineAt: deadline, suspendReason: reason, from: from))
        save(s)
        return s
    }

    mutating func bye(_ id: SessionID, connection: ConnectionID) throws(BrokerError) -> Session {
        guard var s = sessions[id] else { throw .sessionNotFound(id) }
        guard s.connection == connection else { throw .fenced(id) }
        end(&s, .left, at: clock)
        return s
    }

    /// A transport closed or failed. Only the session's current connection counts; a suspended session
    /// keeps its declared deadline (a backgrounded app often loses its socket).
    mutating func connectionLost(_ id: SessionID, connection: ConnectionID, cause: DisconnectCause) {
        guard var s = sessions[id], s.connection == connection else { return }
        s.connection = nil
        s.lastHeartbeatAt = nil
        switch s.state {
        case .connected:
            lose(&s, cause: cause, at: clock)
        default:
            sessions[id] = s
        }
    }

    /// Kicks every connection with `shutdown`; their sessions go to grace for at least the restart floor.
    /// The kicks' `retryAfterMs` are spread (``HelloPacer/spread(index:baseMs:ratePerSecond:)``) in the order
    /// of the session ids, which are random: the crowd comes back at the server's hello rate, in no set order.
    mutating func shutdown(retryAfterMs: Millis, paceRatePerSecond: Double) {
        let now = clock
        var index = 0
        for id in sessions.keys.sorted() {
            guard var s = sessions[id], s.state == .connected || s.state == .suspended || s.connection != nil else {
                continue
            }
            guard let policy = projects[s.projectId]?.project.policy else { continue }
            let retry = HelloPacer.spread(index: index, baseMs: retryAfterMs, ratePerSecond: paceRatePerSecond)
            if s.connection != nil { index += 1 }
            kickConnection(&s, .shutdown, retryAfterMs: retry)
            guard s.state == .connected || s.state == .suspended else {
                sessions[id] = s
                continue
            }
            lose(
                &s, cause: .shutdown, at: now, graceMs: max(policy.reconnectGraceMs, configuration.restartGraceFloorMs))
        }
        // Queued clients are told too, paced after the sessions' clients; their tickets stay (durable), and the
        // restarted server keeps their places for them to come back to with their tokens.
        for projectId in projects.keys.sorted() {
            guard let clients = projects[projectId]?.queue.clients else { continue }
            for (userId, client) in clients.sorted(by: { $0.key < $1.key }) {
                guard let connection = client.connection,
                    let ticketId = projects[projectId]?.queue.ticket(of: userId)?.ticketId
                else { continue }
                let retry = HelloPacer.spread(index: index, baseMs: retryAfterMs, ratePerSecond: paceRatePerSecond)
                index += 1
                projects[projectId]?.queue.clients[userId]?.connection = nil
                pendingKicks.append(
                    Kick(connection: connection, sessionId: ticketId, reason: .shutdown, retryAfterMs: retry))
            }
        }
    }

    /// Refuses a client connection whose `Origin` its project does not allow (``OriginRule``); changes nothing.
    func checkOrigin(_ origin: String?, project: ProjectID) throws(BrokerError) {
        guard OriginRule.allows(origin, projects[project]?.project.policy.allowedOrigins) else {
            throw .originNotAllowed(origin ?? "")
        }
    }
}
