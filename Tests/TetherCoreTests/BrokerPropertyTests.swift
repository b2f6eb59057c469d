import PropertyBased
import Testing
import TetherCore

/// Random command sequences keep the broker's invariants.
@Suite struct BrokerPropertyTests {
    /// One random step: a command kind, a user, a number for whatever else the kind needs.
    typealias Step = (kind: Int, user: Int, n: Int)

    static let steps = PropertyBased.zip(Gen.int(in: 0...18), Gen.int(in: 0...5), Gen.int(in: 0...40_000))
        .array(of: 1...250)

    @Test func randomCommandSequencesKeepTheInvariants() async {
        await propertyCheck(count: 300, input: Self.steps) { steps in
            var checker = InvariantChecker()
            checker.run(steps)
        }
    }
}

/// Runs random steps against a broker and checks every invariant after each one.
struct InvariantChecker {
    var h = Harness(configuration: BrokerConfiguration(tickMs: 250, stallThresholdMs: 2_000))
    var connections: [SessionID: ConnectionID] = [:]
    var lastCursor: UInt64 = 0
    var lastSeq: [SessionID: UInt64] = [:]
    var endedSessions: Set<SessionID> = []
    var checkedEffects = 0

    init() {
        _ = try? h.project(
            "p", capacity: 3, grace: 20_000, interval: 1_000, timeout: 5_000, reservationTtl: 8_000,
            connectTimeout: 10_000, maxSuspend: 30_000)
        _ = try? h.project(
            "q", capacity: 2, grace: 0, interval: 1_000, timeout: 3_000, reservationTtl: 4_000,
            connectTimeout: 6_000, maxSuspend: 10_000)
        // p queues users when full (issue 15): offers for 3 s, at most 4 tickets.
        _ = try? h.run(
            .updateProject("p", ProjectPatch(queue: QueuePatch(enabled: true, offerTtlMs: 3_000, maxLength: 4))))
    }

    mutating func run(_ steps: [(Int, Int, Int)]) {
        for (kind, u, n) in steps {
            step(kind: kind, user: "u\(u)", project: u % 2 == 0 ? "p" : "q", n: n)
            check()
        }
    }

    mutating func step(kind: Int, user: UserID, project: ProjectID, n: Int) {
        let live = h.broker.session(of: user, in: project)
        let conn = live.flatMap { connections[$0.id] }
        switch kind {
        case 0, 1: _ = try? h.apply(user, in: project)
        case 2: _ = try? h.create(user, in: project)
        case 3, 4:
            if let live, let c = try? h.hello(live, epoch: n % 5 == 0 ? live.epoch &- 1 : live.epoch) {
                connections[live.id] = c
            }
        case 5, 6: if let live, let conn { _ = try? h.heartbeat(live, conn) }
        case 7:
            if let live, let conn {
                _ = try? h.run(.suspend(live.id, connection: conn, expectedMs: Millis(n), reason: .background))
            }
        case 8: if let live, let conn { _ = try? h.run(.bye(live.id, connection: conn)) }
        case 9:
            if let live, let conn {
                _ = try? h.run(.connectionLost(live.id, connection: conn, cause: n % 2 == 0 ? .closed : .error))
            }
        case 10: if let live { _ = try? h.run(.destroySession(live.id)) }
        case 11: _ = try? h.run(.updateProject(project, ProjectPatch(capacity: n % 5)))
        case 12:
            if let live, let hash = live.resumeTokenHash {
                let c = h.newConnection()
                let resumed = try? h.run(
                    .resume(resumeTokenHash: hash, connection: c, transport: .tcp, newResumeTokenHash: "r\(c)"))
                if resumed != nil {
                    connections[live.id] = c
                }
            }
        case 13: h.jump(Millis(n % 2_500))  // sometimes a stall
        case 16, 17:
            _ = try? h.run(
                .applyQueued(project, userId: user, userIp: nil, priority: n % 3, ticketId: "qt-\(user)-\(n)"))
        case 18: _ = try? h.run(.cancelTicket(project, user))
        default: h.pass(Millis(n / 4))
        }
    }

    mutating func check() {
        let b = h.broker
        // Events: the cursor strictly grows, every sessionSeq strictly grows, an ended session stays ended.
        for effect in h.effects[checkedEffects...] {
            guard case .event(let e) = effect else { continue }
            #expect(e.cursor == lastCursor + 1, "cursor gap or reorder")
            lastCursor = e.cursor
            guard let sid = e.sessionId else { continue }
            // Every event that names a session carries its epoch and the next sessionSeq (API.md "Events").
            #expect(e.sessionSeq != nil && e.epoch != nil, "\(e.type.rawValue) of \(sid) lacks sessionSeq or epoch")
            if let seq = e.sessionSeq { #expect(seq > lastSeq[sid, default: 0]) }
            lastSeq[sid] = e.sessionSeq
            guard e.type.rawValue.hasPrefix("session.") else { continue }
            #expect(!endedSessions.contains(sid), "an ended session came back")
            if e.type == .sessionEnded { endedSessions.insert(sid) }
        }
        checkedEffects = h.effects.count
        #expect(b.cursor == lastCursor)
        for id in endedSessions { #expect(b.session(id) == nil) }

        var deadlines = 0
        for project in b.allProjects {
            let count = try! b.count(project.id)
            let sessions = try! b.sessions(in: project.id)
            let holders = b.slotHolders(project.id)
            // Counts add up.
            #expect(count.idle + count.running == count.total)
            #expect(count.running == count.reserved + count.created + count.connected + count.suspended + count.grace)
            // Never over capacity, except to keep a live holder.
            #expect(count.total == max(project.policy.capacity, count.running))
            #expect(count.connected == sessions.filter { $0.state == .connected }.count)
            #expect(count.suspended == sessions.filter { $0.state == .suspended }.count)
            #expect(count.grace == sessions.filter { $0.state == .grace }.count)
            #expect(count.created == sessions.filter { $0.state == .created }.count)
            // A slot has at most one holder, and every live session holds its own.
            #expect(Set(sessions.map(\.concurrencyId)).count == sessions.count)
            #expect(Set(sessions.map(\.userId)).count == sessions.count)
            for s in sessions {
                #expect(holders[s.concurrencyId] == "session:\(s.id)")
                #expect(s.deadlineAt != nil)
                #expect(s.state != .connected || s.connection != nil)
            }
            for r in b.allReservations where r.projectId == project.id {
                let holder = holders[r.concurrencyId]
                #expect(
                    holder == "reservation:\(r.userId)"
                        || holder == b.session(of: r.userId, in: project.id).map { "session:\($0.id)" })
                deadlines += 1
            }
            #expect(holders.count == count.running)
            deadlines += sessions.count
            checkQueue(project.id, count: count)
        }
        // Every live session and reservation has exactly one armed deadline.
        #expect(b.armedDeadlines == deadlines)
    }

    /// The queue's invariants: a freed concurrency is never idle while a ticket waits; the waiting tickets'
    /// positions are 1…n in queue order (priority, then arrival); an offered ticket's user holds a reservation
    /// of the offered concurrency; a user has one ticket at most and never a ticket beside a session.
    mutating func checkQueue(_ projectId: ProjectID, count: ConcurrencyCount) {
        let b = h.broker
        let places = try! b.queue(projectId)
        let waiting = places.filter { $0.position > 0 }
        if !waiting.isEmpty { #expect(count.idle == 0, "an idle concurrency while \(waiting.count) tickets wait") }
        #expect(waiting.map(\.position) == Array(stride(from: 1, through: waiting.count, by: 1)))
        let keys = waiting.map { (-$0.ticket.priority, $0.ticket.seq) }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }, "queue order is priority, then arrival")
        #expect(Set(places.map(\.ticket.userId)).count == places.count)
        for place in places {
            let user = place.ticket.userId
            #expect(b.session(of: user, in: projectId) == nil, "a queued user with a session")
            if let offered = place.ticket.offeredConcurrency {
                #expect(b.reservation(of: user, in: projectId)?.concurrencyId == offered)
                #expect(b.slotHolders(projectId)[offered] == "reservation:\(user)")
            }
            #expect((try? b.queuePlace(projectId, userId: user)) == place)
        }
        let maxLength = (try? b.project(projectId))?.policy.queue.maxLength ?? 0
        #expect(places.count <= maxLength)
    }
}
