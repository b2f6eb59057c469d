import TetherCore
import TetherProtocol

// The same machine for a queued client over HTTP (API.md "Waiting queue": `hello {queueToken}` on WebSocket,
// TCP and HTTP). Such a client has no socket to be told things on: its virtual connection per ticket keeps the
// broker's last word (`queued` or `offered`), and every `POST /v1/heartbeat` with the queue token is answered
// with it. The first heartbeat (and the first after a kick it was told of) attaches the ticket's live client;
// each heartbeat is recorded on the link, which the broker reads when the client's silence deadline
// (`queue.clientTimeoutMs`) falls due; `bye` leaves the queue. A kick (the ticket left, or another connection
// took its place) is told at the next heartbeat.
extension ConnectionMachine {
    /// What the virtual connection of a queue token knows: its ticket, and the broker's last word to it.
    /// Indirect, so that a socket connection's machine carries one pointer for it.
    indirect enum HTTPQueueWait: Sendable, Hashable {
        case waiting(project: ProjectID, ticket: TicketID, latest: ServerMessage?)

        var project: ProjectID { if case .waiting(let p, _, _) = self { p } else { "" } }
        var ticket: TicketID { if case .waiting(_, let t, _) = self { t } else { "" } }
        var latest: ServerMessage? { if case .waiting(_, _, let m) = self { m } else { nil } }
    }

    /// The virtual connection of the queue token for `ticket` of `project`.
    init(httpQueue project: ProjectID, ticket: TicketID, settings: Settings = Settings(), now: Millis) {
        self.init(connection: 0, transport: .http, settings: settings, now: now)
        httpQueue = .waiting(project: project, ticket: ticket, latest: nil)
    }

    /// Whether the next heartbeat attaches the ticket's live client (the first, or the first after a kick).
    var httpQueueNeedsAttach: Bool {
        if case .queued = phase { return false }
        return true
    }

    /// One `POST /v1/heartbeat` whose queue token verified, carrying `message`. When it would attach the
    /// client, `attach` is a fresh connection id and `busyRetryAfterMs` the hello pacer's answer (non-nil:
    /// 503, kick `busy`, nothing touched).
    /// `origin`: the request's `Origin`, as for ``httpRequest(_:attach:busyRetryAfterMs:origin:at:)``.
    mutating func httpQueueRequest(
        _ message: ClientMessage, attach: ConnectionID?, busyRetryAfterMs: Millis? = nil, origin: String? = nil,
        at now: Millis
    ) -> ConnectionActions {
        guard let wait = httpQueue else { return ConnectionActions() }
        if case .queued = phase, origin != httpOrigin {
            return ConnectionActions(.answer(.kick(.originNotAllowed)))
        }
        switch message {
        case .hello, .pong:
            return ConnectionActions(
                .answer(.invalid(code: "InvalidParameter", message: "type: a queued client sends ping or bye")))
        case .suspend:
            return ConnectionActions(
                .answer(
                    .invalid(
                        code: "InvalidParameter",
                        message: "type: a queued client cannot suspend: it leaves with bye, or stays silent")))
        case .ping, .bye:
            break
        }
        if let reason = httpKicked {
            // Told once. The ticket is over, but for `replaced` (another connection took its place: the next
            // heartbeat takes it back, as a new connection would) and `shutdown`.
            httpKicked = nil
            var actions = ConnectionActions()
            if reason != .replaced && reason != .shutdown { actions.append(.forget) }
            actions.append(.answer(.kick(reason)))
            return actions
        }
        if case .queued(let project, let user) = phase {
            var actions = ConnectionActions(.countInbound, .seen(at: now, until: now + timeoutMs))
            if case .bye = message {
                actions.append(.submit(.queueBye(project, user, connection: connection)))
                actions.append(.forget)
                phase = .closed
                actions.append(.answer(.message(.pong(seq: 0, t: 0, st: now))))
            } else {
                actions.append(.answer(wait.latest.map { .message($0) } ?? .kick(.expired)))
            }
            return actions
        }
        if phase == .helloPending {
            // Another heartbeat of the same token is attaching it right now.
            return ConnectionActions(.answer(.busy(retryAfterMs: 100)))
        }
        if case .bye = message {
            // Not attached: nothing of the ticket's is touched by a bye that was never its live client's.
            return ConnectionActions(.answer(.kick(.left)))
        }
        if let busyRetryAfterMs { return ConnectionActions(.answer(.busy(retryAfterMs: busyRetryAfterMs))) }
        guard let attach else { return ConnectionActions(.answer(.kick(.expired))) }
        var actions = ConnectionActions(.countInbound, .attach(old: connection, new: attach))
        connection = attach
        phase = .helloPending
        httpOrigin = origin
        actions.append(.submit(.queueHello(wait.project, wait.ticket, connection: connection, origin: origin)))
        return actions
    }

    /// The broker accepted the HTTP client's `queueHello`: it is told its place (or its offer) in this
    /// heartbeat's answer, and its silence is timed by `queue.clientTimeoutMs` from now.
    mutating func httpQueueAccepted(_ place: QueuePlace, policy: Policy, at now: Millis) -> ConnectionActions {
        guard phase == .helloPending, let wait = httpQueue else { return ConnectionActions() }
        phase = .queued(place.ticket.projectId, place.ticket.userId)
        timeoutMs = policy.queue.clientTimeoutMs
        let first = Self.firstMessage(place)
        httpQueue = .waiting(project: wait.project, ticket: wait.ticket, latest: first)
        return ConnectionActions(.watch(at: now, until: now + timeoutMs), .answer(.message(first)))
    }

    /// What a queued client is told first: its offer, if the ticket has one, else its place.
    static func firstMessage(_ place: QueuePlace) -> ServerMessage {
        if let concurrencyId = place.ticket.offeredConcurrency, let until = place.reservedUntil {
            return .offered(concurrencyId: concurrencyId, reservedUntil: until)
        }
        return .queued(ticketId: place.ticket.ticketId, position: place.position, etaMs: place.etaMs)
    }

    /// The broker's word to an HTTP queued client: kept for its next heartbeat.
    mutating func httpQueueNoticed(_ message: ServerMessage) -> ConnectionActions {
        guard case .queued = phase, let wait = httpQueue else { return ConnectionActions() }
        httpQueue = .waiting(project: wait.project, ticket: wait.ticket, latest: message)
        return ConnectionActions()
    }

    /// A refused command of an HTTP queued client: the ticket left, or was never there.
    mutating func httpQueueRefused(_ error: BrokerError) -> ConnectionActions {
        phase = .awaitingHello
        if case .badToken = error { return ConnectionActions(.forget, .answer(.kick(.badToken))) }
        if case .originNotAllowed = error { return ConnectionActions(.forget, .answer(.kick(.originNotAllowed))) }
        if case .stopping = error { return ConnectionActions(.forget, .answer(.kick(.shutdown))) }
        return ConnectionActions(.forget, .answer(.kick(.expired)))
    }
}
