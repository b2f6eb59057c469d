import TetherCore
import TetherProtocol

// The same machine for HTTP heartbeats: a client that cannot hold a socket has a virtual connection per
// (session, epoch) of its token, attached by its first heartbeat (and again after a kick, such as a
// timeout), lost only by timeout, and told a kick at its next heartbeat.
extension ConnectionMachine {
    /// The virtual connection of the client token (`session`, `epoch`).
    init(httpSession session: SessionID, epoch: UInt64, settings: Settings = Settings(), now: Millis) {
        self.init(connection: 0, transport: .http, settings: settings, now: now, httpToken: (session, epoch))
    }

    /// Whether the next heartbeat attaches the session again (the first one, or the first after a kick): the
    /// executor then passes a fresh connection id and resume-token hash to ``httpRequest(_:attach:at:)``.
    var httpNeedsAttach: Bool { attachedSession == nil }

    /// One `POST /v1/heartbeat` whose token verified, carrying `message`. When it would attach the session
    /// (``httpNeedsAttach``), `busyRetryAfterMs` is the server's hello pacer's answer: non-nil refuses it for
    /// that long (503, kick `busy`), the session untouched.
    ///
    /// `origin` is the request's `Origin` header: the broker checks the attaching request's against the
    /// project's `allowedOrigins`; a later request with another `Origin` is refused (403, kick
    /// `originNotAllowed`) without touching the session.
    mutating func httpRequest(
        _ message: ClientMessage, attach: (connection: ConnectionID, resumeTokenHash: String)?,
        busyRetryAfterMs: Millis? = nil, origin: String? = nil, at now: Millis
    ) -> ConnectionActions {
        guard let (session, epoch) = httpToken else { return ConnectionActions() }
        if attachedSession != nil, origin != httpOrigin {
            return ConnectionActions(.answer(.kick(.originNotAllowed)))
        }
        switch message {
        case .hello, .pong:
            return ConnectionActions(
                .answer(.invalid(code: "InvalidParameter", message: "type: send ping, suspend or bye")))
        case .ping, .suspend, .bye:
            break
        }
        if let reason = httpKicked, reason == .destroyed || reason == .left || reason == .replaced {
            // Told once: after `destroyed` or `left` the session is over; `replaced` stays for this old token.
            var actions = ConnectionActions()
            if reason != .replaced { actions.append(.forget) }
            actions.append(.answer(.kick(reason)))
            return actions
        }
        if attachedSession == nil, let busyRetryAfterMs {
            return ConnectionActions(.answer(.busy(retryAfterMs: busyRetryAfterMs)))
        }
        var actions = ConnectionActions(.countInbound)
        if attachedSession == nil {
            guard let attach else { return ConnectionActions(.answer(.kick(.expired))) }
            actions.append(.attach(old: connection, new: attach.connection))
            connection = attach.connection
            httpKicked = nil
            lastSeqReset()
            phase = .helloPending
            httpOrigin = origin
            actions.append(
                .submit(
                    .hello(
                        session, epoch: epoch, connection: connection, transport: .http,
                        resumeTokenHash: attach.resumeTokenHash, origin: origin)))
        }
        switch message {
        case .ping(let seq, let t):
            actions.append(.clientSeq(seq, previous: httpLastSeq(replacingWith: seq)))
            actions.append(.heartbeat(session, connection: connection, endsSuspension: true))
            actions.append(.answer(.message(.pong(seq: seq, t: t, st: now))))
        case .suspend(let expectedMs, let reason):
            guard let reason = SuspendReason(rawValue: reason) else {
                actions.append(.answer(.invalid(code: "InvalidParameterValue", message: "reason: unknown")))
                return actions
            }
            actions.append(.submit(.suspend(session, connection: connection, expectedMs: expectedMs, reason: reason)))
            actions.append(.answer(.message(.pong(seq: 0, t: 0, st: now))))
        case .bye:
            actions.append(.submit(.bye(session, connection: connection)))
            actions.append(.answer(.message(.pong(seq: 0, t: 0, st: now))))
        case .hello, .pong:
            break
        }
        return actions
    }

    /// A refused command of an HTTP heartbeat: an older epoch's token is a bad token; anything else means
    /// the session is over (or was never there): `expired`.
    mutating func httpRefused(_ error: BrokerError) -> ConnectionActions {
        if case .stopping = error {
            // The server is stopping: heartbeat again shortly (503 `InternalError.ShuttingDown`), the session is
            // kept for the restarted server. The next heartbeat attaches it again.
            if phase == .helloPending { phase = .awaitingHello }
            return ConnectionActions(.answer(.kick(.shutdown)))
        }
        if phase == .helloPending {
            phase = .awaitingHello
            if case .fenced = error { return ConnectionActions(.answer(.kick(.badToken))) }
            if case .originNotAllowed = error { return ConnectionActions(.answer(.kick(.originNotAllowed))) }
        }
        return ConnectionActions(.answer(.kick(.expired)))
    }
}
