// Live queued clients (API.md "Waiting queue"): a client that says `hello {queueToken}` is told its place
// (`queued`), again whenever it changes (at most once a second), and its offer (`offered`); it heartbeats like
// a session's client. One that connected and then stayed silent for `queue.clientTimeoutMs`, or said `bye`,
// takes its ticket out of the queue: nobody waits behind a client that is gone. A ticket whose client never
// connected stays until it is offered or cancelled.
extension Broker {
    /// How often places are pushed at most.
    static let queuePushEveryMs: Millis = 1_000
    /// The push round is cut in this many slots, one every `queuePushEveryMs / queuePushSlots` (50 ms): each
    /// looks at the clients of its slot only, so a round over 10 k clients never holds the broker for all of
    /// them at once (it did: 10 k places in one tick raised heartbeat-expiry lateness p99 from 1 to 20 ms).
    static let queuePushSlots = 20

    /// A user's slot in the push round: FNV-1a of its id, so that it stays put and users spread evenly.
    static func queuePushSlot(of userId: UserID) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in userId.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % UInt32(queuePushSlots))
    }

    mutating func queueHello(
        _ projectId: ProjectID, _ ticketId: TicketID, connection: ConnectionID, origin: String? = nil
    ) throws(BrokerError) -> QueuePlace {
        // A ticket that left (cancelled, taken, lapsed) makes its token worthless.
        guard let (place, old, timeout) = helloFacts(projectId, ticketId) else { throw .badToken }
        try checkOrigin(origin, project: projectId)
        if let old, old != connection {
            pendingKicks.append(Kick(connection: old, sessionId: ticketId, reason: .replaced))
        }
        let userId = place.ticket.userId
        projects[projectId]?.queue.clients[userId] = WaitingQueue.Client(
            connection: connection, lastSeenAt: clock, sentPosition: place.position, sentEtaMs: place.etaMs,
            toldAt: clock, slot: Self.queuePushSlot(of: userId))
        wheel.arm(.queueClient(projectId, userId), at: clock + timeout)
        if wheel.deadline(of: .queuePush) == nil {
            queuePushNextAt = clock + Self.queuePushEveryMs / Millis(Self.queuePushSlots)
            wheel.arm(.queuePush, at: queuePushNextAt)
        }
        return place
    }

    /// A ticket's place, its client's connection and the client timeout, read without holding the state (see
    /// ``Broker/join(_:)``).
    private func helloFacts(_ projectId: ProjectID, _ ticketId: TicketID) -> (QueuePlace, ConnectionID?, Millis)? {
        guard let ps = projects[projectId], let ticket = ps.queue.ticket(id: ticketId) else { return nil }
        return (place(ticket, ps), ps.queue.clients[ticket.userId]?.connection, ps.project.policy.queue.clientTimeoutMs)
    }

    mutating func queueBye(_ projectId: ProjectID, _ userId: UserID, connection: ConnectionID) throws(BrokerError) {
        guard let ticket = projects[projectId]?.queue.ticket(of: userId),
            projects[projectId]?.queue.clients[userId]?.connection == connection
        else { throw .badToken }
        projects[projectId]?.queue.clients[userId]?.connection = nil  // it closes by itself: no kick
        leaveQueue(ticket, .left)
        if ticket.isOffered { dropReservation(projectId, userId, at: clock) }
    }

    mutating func queueClientLost(
        _ projectId: ProjectID, _ userId: UserID, connection: ConnectionID, lastSeenAt: Millis
    ) {
        guard let timeout = projects[projectId]?.project.policy.queue.clientTimeoutMs,
            var client = projects[projectId]?.queue.clients[userId], client.connection == connection
        else { return }
        client.connection = nil
        client.lastSeenAt = min(max(client.lastSeenAt, lastSeenAt), clock)
        projects[projectId]?.queue.clients[userId] = client
        wheel.arm(.queueClient(projectId, userId), at: client.lastSeenAt + timeout)
    }

    /// A queued client's silence deadline fell due: moved on when it was heard from since, else its ticket
    /// leaves (reason `timeout`).
    mutating func queueClientDue(_ projectId: ProjectID, _ userId: UserID, heard: (ConnectionID) -> Millis?) {
        guard var client = projects[projectId]?.queue.clients[userId],
            let ticket = projects[projectId]?.queue.ticket(of: userId),
            let timeout = projects[projectId]?.project.policy.queue.clientTimeoutMs
        else { return }
        if let connection = client.connection {
            // No record: the connection is closing (its link left the registry, and its report with the time it
            // was last heard from, ``queueClientLost``, is on its way): not a silence. Under load a tick fell in
            // that gap and took a ticket out whose client had answered every ping (tether sim --queue).
            let at = heard(connection) ?? clock
            client.lastSeenAt = max(client.lastSeenAt, min(at, clock))  // later than now: heard now
        }
        if client.lastSeenAt + timeout > clock {
            projects[projectId]?.queue.clients[userId] = client
            wheel.arm(.queueClient(projectId, userId), at: client.lastSeenAt + timeout)
            return
        }
        leaveQueue(ticket, .timeout)
        if ticket.isOffered { dropReservation(projectId, userId, at: clock) }
    }

    /// Tells each connected queued client of the slots now due whose place changed (position, or the estimate
    /// by a second or more) and who was not told anything for a second its place now; then looks again at the
    /// next slot's time while any client is connected. After a stall, the slots it missed (a round at most) are
    /// looked at at once.
    mutating func pushQueuePlaces() {
        let step = Self.queuePushEveryMs / Millis(Self.queuePushSlots)
        var connected = false
        var looked = 0
        repeat {
            for projectId in projects.keys.sorted() {
                let (changed, any) = changedPlaces(projectId, slot: queuePushSlot)
                connected = connected || any
                for (userId, connection, now) in changed {
                    projects[projectId]?.queue.clients[userId]?.sentPosition = now.position
                    projects[projectId]?.queue.clients[userId]?.sentEtaMs = now.etaMs
                    projects[projectId]?.queue.clients[userId]?.toldAt = clock
                    effects.append(
                        .queueNotice(
                            QueueNotice(
                                connection: connection, ticketId: now.ticket.ticketId,
                                kind: .place(position: now.position, etaMs: now.etaMs))))
                }
            }
            queuePushSlot = (queuePushSlot + 1) % Self.queuePushSlots
            queuePushNextAt += step
            looked += 1
        } while queuePushNextAt <= clock && looked < Self.queuePushSlots
        if queuePushNextAt <= clock { queuePushNextAt = clock + step }
        if connected { wheel.arm(.queuePush, at: queuePushNextAt) }
    }

    /// The connected clients of a project's `slot` whose place changed since they were told, told nothing for
    /// a second (read without holding the state while it changes: see ``Broker/join(_:)``), and whether any
    /// client of the project is connected.
    private func changedPlaces(_ projectId: ProjectID, slot: Int) -> (
        changed: [(UserID, ConnectionID, QueuePlace)], connected: Bool
    ) {
        guard let ps = projects[projectId], !ps.queue.clients.isEmpty else { return ([], false) }
        var due: [(UserID, ConnectionID)] = []
        var connected = false
        for (userId, client) in ps.queue.clients {
            guard let connection = client.connection else { continue }
            connected = true
            if client.slot == slot && clock - client.toldAt >= Self.queuePushEveryMs {
                due.append((userId, connection))
            }
        }
        guard !due.isEmpty else { return ([], connected) }
        let eta = queueETA(ps)
        var changed: [(UserID, ConnectionID, QueuePlace)] = []
        for (userId, connection) in due.sorted(by: { $0.0 < $1.0 }) {
            guard let client = ps.queue.clients[userId], let ticket = ps.queue.ticket(of: userId), !ticket.isOffered
            else { continue }
            let now = place(ticket, ps, eta: eta)
            guard now.position != client.sentPosition || abs(now.etaMs - client.sentEtaMs) >= 1_000 else { continue }
            changed.append((userId, connection, now))
        }
        return (changed, connected)
    }

    /// Whether the ticket of a user has a live client (for the API's `clientConnected`).
    public func queueClientConnected(_ projectId: ProjectID, _ userId: UserID) -> Bool {
        projects[projectId]?.queue.clients[userId]?.connection != nil
    }
}
