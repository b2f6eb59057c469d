// Time: deadlines, expiries and stall protection.
extension Broker {
    /// Moves the broker's clock to `now` without the stall rule, leaving the deadlines due by then to the
    /// next ``tick(at:heard:)``. For the shell once a restore's own transitions are committed: that took a
    /// while (seconds for tens of thousands of sessions), but no connection was open meanwhile, so nothing went
    /// unheard, and shifting (and saving) every deadline for it would only cost another such commit.
    public mutating func resumeClock(at now: Millis) {
        clock = max(clock, now)
    }

    /// Moves the broker's time to `now` and processes every deadline at or before it, in deadline order.
    ///
    /// If more than `stallThresholdMs` passed since the latest time seen while deadlines were armed, the
    /// process itself was stalled (the shell advances at least every `tickMs`): every deadline moves
    /// later by the gap instead of expiring clients whose heartbeats could not be read meanwhile.
    ///
    /// A due heartbeat deadline of a connection the shell watches is checked against `heard` (when the shell
    /// last heard from it): heard from since, the deadline moves to that time + the timeout and nothing else
    /// happens (heartbeat deadlines are never persisted); otherwise it expires, as late as `now` is past the
    /// real deadline. A time later than `now` (the shell's mark of a connection waiting on the server, whose
    /// welcome is not yet durable) counts as heard now. So a heartbeat costs the broker nothing, and the broker's timer, not a busy event loop,
    /// decides when a silent connection is lost (the re-check of Netty's `IdleStateHandler`).
    mutating func advance(to now: Millis, heard: (ConnectionID) -> Millis? = { _ in nil }) {
        let t = max(now, clock)
        let gap = t - clock
        if gap > configuration.stallThresholdMs && !wheel.isEmpty {
            shiftDeadlines(by: gap)
        }
        clock = t
        var expired: [DeadlineWheel<DeadlineKey>.Expiry] = []
        wheel.advance(to: t, into: &expired)
        guard !expired.isEmpty else { return }
        for expiry in expired {
            switch expiry.key {
            case .session(let id):
                expireSession(id, at: expiry.deadline, lateness: expiry.lateness, heard: heard)
            case .reservation(let projectId, let userId):
                effects.append(.deadlineExpired(.reservation, latenessMs: expiry.lateness))
                offerLapsed(projectId, userId)
                dropReservation(projectId, userId, at: t)
            case .queueClient(let projectId, let userId):
                queueClientDue(projectId, userId, heard: heard)
            case .queuePush:
                pushQueuePlaces()
            }
        }
        serveQueues()
        flushKicks()
    }

    private mutating func expireSession(
        _ id: SessionID, at deadline: Millis, lateness: Millis, heard: (ConnectionID) -> Millis?
    ) {
        guard var s = sessions[id] else { return }
        let now = clock
        var lateness = lateness
        if s.state == .connected, isWatchedByShell(s), let connection = s.connection, let last = heard(connection),
            let timeout = projects[s.projectId]?.project.policy.heartbeat.timeoutMs
        {
            // A record later than now is the shell's "waiting on the server" (a welcome not yet durable): heard now.
            let last = min(last, now)
            let real = max(last, s.lastHeartbeatAt ?? last) + timeout
            if real > now {
                // Heard from since the deadline was armed: it moves; nothing is lost.
                s.lastHeartbeatAt = real - timeout
                s.deadlineAt = real
                sessions[id] = s
                wheel.arm(.session(id), at: real)
                return
            }
            lateness = now - max(real, deadline)
        }
        switch s.state {
        case .created:
            effects.append(.deadlineExpired(.connect, latenessMs: lateness))
            end(&s, s.everConnected ? .graceExpired : .neverConnected, at: now)
        case .connected, .suspended:
            effects.append(.deadlineExpired(s.state == .connected ? .heartbeat : .suspension, latenessMs: lateness))
            kickConnection(&s, .expired)
            lose(&s, cause: .heartbeatTimeout, at: now)
        case .grace:
            effects.append(.deadlineExpired(.grace, latenessMs: lateness))
            end(&s, .graceExpired, at: now)
        case .ended:
            break
        }
    }

    private mutating func shiftDeadlines(by gap: Millis) {
        wheel.shift(by: gap)
        effects.append(.deadlinesShifted(byMs: gap))
        for (key, deadline) in wheel.entries {
            switch key {
            case .session(let id):
                // In memory only: saving every record on a stall cost seconds with tens of thousands of
                // sessions, under the broker's lock, and made the next stall. A crash before a record is saved
                // again restores the deadline as saved (at most the stall earlier), and a restart gives
                // sessions whose connections it dropped a full grace window anyway.
                sessions[id]?.deadlineAt = deadline
            case .reservation(let projectId, let userId):
                projects[projectId]?.reservations[userId]?.reservedUntil = deadline
            case .queueClient, .queuePush:
                break  // in memory only
            }
        }
    }
}
