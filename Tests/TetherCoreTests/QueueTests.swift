import Testing
import TetherCore

/// The waiting queue's rules (issue 15, item 1): priority then arrival, offers as reservations for
/// `offerTtlMs`, a freed concurrency to the head ticket before any plain apply, an offer not taken passes on,
/// re-applying keeps the ticket, `maxLength`, and the ways a ticket leaves.
@Suite struct QueueTests {
    /// A project of `capacity` with the queue on (offers for 10 s), every concurrency held by a connected session.
    static func full(capacity: Int = 2, maxLength: Int = 100) throws -> (Harness, [Session]) {
        var h = Harness()
        try h.project(capacity: capacity)
        _ = try h.run(
            .updateProject(
                "p", ProjectPatch(queue: QueuePatch(enabled: true, offerTtlMs: 10_000, maxLength: maxLength))))
        var held: [Session] = []
        for i in 0..<capacity { held.append(try h.connected("holder\(i)").0) }
        return (h, held)
    }

    static func queue(_ h: inout Harness, _ user: UserID, priority: Int = 0) throws -> Reply {
        try h.run(.applyQueued("p", userId: user, userIp: nil, priority: priority, ticketId: "qt-\(user)"))
    }

    static func place(_ reply: Reply) -> QueuePlace? {
        if case .queued(let place) = reply { place } else { nil }
    }

    @Test func aFullPoolQueuesOnlyWhenTheQueueIsOn() throws {
        var h = Harness()
        try h.project(capacity: 1)
        _ = try h.connected("a")
        #expect { try Self.queue(&h, "b") } throws: { ($0 as? BrokerError)?.code == "ResourceNotFound.NoIdle" }
        _ = try h.run(.updateProject("p", ProjectPatch(queue: QueuePatch(enabled: true))))
        let place = try #require(Self.place(try Self.queue(&h, "b")))
        #expect(place.position == 1)
        #expect(place.ticket.ticketId == "qt-b")
        #expect(h.events.last?.type == .queueJoined)
        #expect(h.events.last?.data.position == 1)
        // With an idle concurrency, a queued apply is a plain apply.
        var free = Harness()
        try free.project(capacity: 1)
        _ = try free.run(.updateProject("p", ProjectPatch(queue: QueuePatch(enabled: true))))
        guard case .applied = try Self.queue(&free, "x") else {
            Issue.record("an idle concurrency must be reserved, not queued")
            return
        }
    }

    @Test func applyingAgainKeepsTheSameTicketAndPlace() throws {
        var (h, _) = try Self.full()
        _ = try Self.queue(&h, "a")
        _ = try Self.queue(&h, "b")
        let again = try #require(
            Self.place(try h.run(.applyQueued("p", userId: "a", userIp: nil, priority: 9, ticketId: "qt-other"))))
        #expect(again.ticket.ticketId == "qt-a")
        #expect(again.position == 1)
        #expect(again.ticket.priority == 0, "re-applying does not change the priority")
        #expect(try h.broker.queue("p").count == 2)
    }

    @Test func priorityThenArrivalOrdersTheQueue() throws {
        var (h, _) = try Self.full()
        _ = try Self.queue(&h, "low1", priority: 0)
        _ = try Self.queue(&h, "high", priority: 5)
        _ = try Self.queue(&h, "low2", priority: 0)
        _ = try Self.queue(&h, "mid", priority: 3)
        let order = try h.broker.queue("p").map { ($0.ticket.userId, $0.position) }
        #expect(order.map(\.0) == ["high", "mid", "low1", "low2"])
        #expect(order.map(\.1) == [1, 2, 3, 4])
    }

    @Test func aFreedConcurrencyGoesToTheHeadTicketNotToAPlainApply() throws {
        var (h, held) = try Self.full()
        _ = try Self.queue(&h, "a")
        _ = try Self.queue(&h, "b")
        h.clearEffects()
        _ = try h.run(.destroySession(held[0].id))
        let offer = try #require(h.broker.reservation(of: "a", in: "p"))
        #expect(offer.concurrencyId == held[0].concurrencyId)
        #expect(offer.reservedUntil == h.now + 10_000)
        let offered = try #require(h.events.first { $0.type == .queueOffered })
        #expect(
            offered.userId == "a" && offered.data.ticketId == "qt-a" && offered.data.deadlineAt == offer.reservedUntil)
        #expect(try h.broker.queuePlace("p", userId: "a").position == 0)
        #expect(try h.broker.queuePlace("p", userId: "b").position == 1)
        // The pool has no idle concurrency for a plain apply while b waits.
        #expect(throws: BrokerError.self) { try h.apply("walk-in") }
        // The offered user's CreateSession takes it: the ticket leaves with reason `taken`.
        h.clearEffects()
        let s = try h.create("a")
        #expect(s.concurrencyId == held[0].concurrencyId)
        #expect(h.events.contains { $0.type == .queueLeft && $0.userId == "a" && $0.data.queueReason == .taken })
        #expect(throws: BrokerError.ticketNotFound("p", "a")) { try h.broker.queuePlace("p", userId: "a") }
    }

    @Test func anOfferNotTakenPassesToTheNextTicket() throws {
        var (h, held) = try Self.full(capacity: 1)
        _ = try Self.queue(&h, "a")
        _ = try Self.queue(&h, "b")
        _ = try h.run(.destroySession(held[0].id))
        #expect(h.broker.reservation(of: "a", in: "p") != nil)
        h.clearEffects()
        h.pass(10_001)
        #expect(h.broker.reservation(of: "a", in: "p") == nil)
        #expect(h.events.contains { $0.type == .queueLeft && $0.userId == "a" && $0.data.queueReason == .offerExpired })
        let b = try #require(h.broker.reservation(of: "b", in: "p"))
        #expect(b.concurrencyId == held[0].concurrencyId)
        #expect(try h.broker.queue("p").map(\.ticket.userId) == ["b"])
    }

    @Test func cancellingAnOfferedTicketOffersTheConcurrencyToTheNext() throws {
        var (h, held) = try Self.full(capacity: 1)
        _ = try Self.queue(&h, "a")
        _ = try Self.queue(&h, "b")
        _ = try Self.queue(&h, "c")
        guard case .ticket(let cancelledWaiting) = try h.run(.cancelTicket("p", "b")) else {
            Issue.record("cancel answers the ticket")
            return
        }
        #expect(cancelledWaiting.userId == "b")
        #expect(try h.broker.queuePlace("p", userId: "c").position == 2)
        _ = try h.run(.destroySession(held[0].id))
        h.clearEffects()
        _ = try h.run(.cancelTicket("p", "a"))
        #expect(h.events.contains { $0.type == .queueLeft && $0.userId == "a" && $0.data.queueReason == .cancelled })
        #expect(h.broker.reservation(of: "a", in: "p") == nil)
        #expect(h.broker.reservation(of: "c", in: "p")?.concurrencyId == held[0].concurrencyId)
        #expect(throws: BrokerError.ticketNotFound("p", "nobody")) { try h.run(.cancelTicket("p", "nobody")) }
    }

    @Test func aFullQueueAndABadPriorityAreRefusedAndChangeNothing() throws {
        var (h, _) = try Self.full(maxLength: 2)
        _ = try Self.queue(&h, "a")
        _ = try Self.queue(&h, "b")
        let before = h.broker.snapshot
        #expect(throws: BrokerError.queueFull(maxLength: 2)) { try Self.queue(&h, "c") }
        #expect(throws: BrokerError.self) { try Self.queue(&h, "d", priority: 10) }
        #expect(throws: BrokerError.self) { try Self.queue(&h, "e", priority: -1) }
        #expect(h.broker.snapshot == before)
        #expect(
            throws: BrokerError.invalidParameter(
                field: "queue.maxLength", message: "must be between 1 and 1000000, got 0")
        ) {
            try h.run(.updateProject("p", ProjectPatch(queue: QueuePatch(maxLength: 0))))
        }
    }

    @Test func raisingTheCapacityOffersTheNewConcurrenciesInOrder() throws {
        var (h, _) = try Self.full(capacity: 1)
        _ = try Self.queue(&h, "a")
        _ = try Self.queue(&h, "b", priority: 1)
        _ = try Self.queue(&h, "c")
        _ = try h.run(.updateProject("p", ProjectPatch(capacity: 3)))
        #expect(h.broker.reservation(of: "b", in: "p") != nil)
        #expect(h.broker.reservation(of: "a", in: "p") != nil)
        #expect(h.broker.reservation(of: "c", in: "p") == nil)
        #expect(try h.broker.queuePlace("p", userId: "c").position == 1)
        #expect(try h.broker.count("p").idle == 0)
    }

    @Test func deletingTheProjectEndsItsTickets() throws {
        var (h, _) = try Self.full(capacity: 1)
        _ = try Self.queue(&h, "a")
        _ = try Self.queue(&h, "b")
        h.clearEffects()
        _ = try h.run(.deleteProject("p"))
        let left = h.events.filter { $0.type == .queueLeft }
        #expect(left.map(\.userId) == ["a", "b"])
        #expect(left.allSatisfy { $0.data.queueReason == .projectDeleted })
        #expect(h.broker.allTickets.isEmpty)
    }

    @Test func aRestartKeepsEveryTicketItsOrderAndItsOffer() throws {
        var (h, held) = try Self.full(capacity: 1)
        _ = try Self.queue(&h, "a")
        _ = try Self.queue(&h, "b", priority: 2)
        _ = try Self.queue(&h, "c")
        _ = try h.run(.destroySession(held[0].id))
        let snapshot = h.broker.snapshot
        #expect(snapshot.tickets.count == 3)
        var restored = Broker(restoring: snapshot, at: h.now + 1_000)
        _ = restored.takeEffects()
        #expect(try restored.queue("p").map(\.ticket.userId) == ["b", "a", "c"])
        #expect(try restored.queuePlace("p", userId: "b").position == 0, "b's offer survives")
        #expect(try restored.queuePlace("p", userId: "c").position == 2)
        // The offer's deadline is its reservation's: it lapses on time and passes on to a.
        var effects: [Effect] = []
        var t = h.now + 1_000
        while t <= snapshot.reservations[0].reservedUntil {  // in ticks: one jump would be a stall, shifted
            t += restored.configuration.tickMs
            effects += restored.tick(at: t)
        }
        #expect(
            effects.contains {
                if case .event(let e) = $0 { e.type == .queueOffered && e.userId == "a" } else { false }
            })
    }

    @Test func theEstimateCountsGraceDeadlinesAndTheMeanSessionLength() throws {
        var h = Harness()
        try h.project(capacity: 2, interval: 30_000, timeout: 120_000)
        _ = try h.run(.updateProject("p", ProjectPatch(queue: QueuePatch(enabled: true))))
        let held = [try h.connected("h0").0, try h.connected("h1").0]
        h.pass(20_000)
        _ = try Self.queue(&h, "a")
        _ = try Self.queue(&h, "b")
        // No session ended yet: the two held ones are taken to last twice their age (40 s): one frees every 20 s.
        #expect(try h.broker.queuePlace("p", userId: "a").etaMs == 20_000)
        #expect(try h.broker.queuePlace("p", userId: "b").etaMs == 40_000)
        // One holder's connection is lost: it frees at its grace deadline (90 s) at the latest; the other one,
        // still taken to last 40 s, frees every 40 s.
        _ = try h.run(
            .connectionLost(held[0].id, connection: h.broker.session(held[0].id)!.connection!, cause: .closed))
        #expect(try h.broker.queuePlace("p", userId: "a").etaMs == 40_000)
        #expect(try h.broker.queuePlace("p", userId: "b").etaMs == 80_000)
        // It ends after 20 s: a is offered its concurrency, and b's estimate uses the ended session's length
        // now (20 s), over the two held concurrencies (h1's session and a's offer): one frees every 10 s.
        _ = try h.run(.destroySession(held[0].id))
        #expect(try h.broker.queuePlace("p", userId: "a").position == 0)
        #expect(try h.broker.queuePlace("p", userId: "b").etaMs == 10_000)
    }
}

/// Live queued clients (issue 15, item 3): `hello {queueToken}` gets the place, an older connection of the
/// ticket is replaced, silence past `clientTimeoutMs` or `bye` takes the ticket out, a closed connection
/// leaves it the timeout to come back, the offer and changed places are told to the connection.
@Suite struct QueueClientTests {
    static func full() throws -> (Harness, [Session]) {
        var (h, held) = try QueueTests.full(capacity: 1)
        _ = try h.run(.updateProject("p", ProjectPatch(queue: QueuePatch(clientTimeoutMs: 5_000))))
        _ = try QueueTests.queue(&h, "a")
        _ = try QueueTests.queue(&h, "b")
        return (h, held)
    }

    static func notices(_ h: Harness) -> [QueueNotice] {
        h.effects.compactMap { if case .queueNotice(let n) = $0 { n } else { nil } }
    }

    @Test func aHelloGetsThePlaceAndReplacesAnOlderConnection() throws {
        var (h, _) = try Self.full()
        guard case .queued(let place) = try h.run(.queueHello("p", "qt-b", connection: 7)) else {
            Issue.record("a queue hello answers the place")
            return
        }
        #expect(place.position == 2 && place.ticket.userId == "b")
        #expect(h.broker.queueClientConnected("p", "b"))
        h.clearEffects()
        _ = try h.run(.queueHello("p", "qt-b", connection: 8))
        #expect(h.kicks == [Kick(connection: 7, sessionId: "qt-b", reason: .replaced)])
        #expect(throws: BrokerError.badToken) { try h.run(.queueHello("p", "qt-nobody", connection: 9)) }
    }

    @Test func aSilentClientTakesItsTicketOutAndOneHeardFromKeepsIt() throws {
        var (h, _) = try Self.full()
        _ = try h.run(.queueHello("p", "qt-a", connection: 1))
        _ = try h.run(.queueHello("p", "qt-b", connection: 2))
        // a is heard from all along (the shell's record of its pings); b's record says its hello, nothing since.
        let start = h.now
        var t = h.now
        var effects: [Effect] = []
        while t < h.now + 5_500 {
            t += 250
            effects += h.broker.tick(at: t, heard: { $0 == 1 ? t : start })
        }
        let left = effects.compactMap { if case .event(let e) = $0, e.type == .queueLeft { e } else { nil } }
        #expect(left.map(\.userId) == ["b"] && left.first?.data.queueReason == .timeout)
        #expect(effects.contains(.kick(Kick(connection: 2, sessionId: "qt-b", reason: .expired))))
        #expect(try h.broker.queue("p").map(\.ticket.userId) == ["a"])
    }

    /// A connection with no record when its deadline falls due is closing (its link has left the registry and
    /// its report of when it was last heard from is on its way): it is not taken for silent. The report then
    /// starts the timeout from the last time it was heard.
    @Test func aConnectionClosingAtItsDeadlineIsNotTakenForSilent() throws {
        var (h, _) = try Self.full()
        _ = try h.run(.queueHello("p", "qt-a", connection: 1))
        var t = h.now
        var effects: [Effect] = []
        while t < h.now + 5_250 {
            t += 250
            effects += h.broker.tick(at: t, heard: { _ in nil })
        }
        #expect(!effects.contains { if case .event(let e) = $0 { e.type == .queueLeft } else { false } })
        h.now = t
        _ = try h.run(.queueClientLost("p", "a", connection: 1, lastSeenAt: t - 100))
        h.clearEffects()
        h.pass(4_800)
        #expect(try h.broker.queuePlace("p", userId: "a").position == 1)
        h.pass(300)
        #expect(h.events.contains { $0.type == .queueLeft && $0.userId == "a" && $0.data.queueReason == .timeout })
    }

    @Test func aClosedConnectionHasTheTimeoutToComeBack() throws {
        var (h, _) = try Self.full()
        _ = try h.run(.queueHello("p", "qt-a", connection: 1))
        _ = try h.run(.queueClientLost("p", "a", connection: 1, lastSeenAt: h.now))
        #expect(!h.broker.queueClientConnected("p", "a"))
        h.pass(4_000)
        _ = try h.run(.queueHello("p", "qt-a", connection: 3))  // back in time
        h.pass(4_000)
        #expect(try h.broker.queuePlace("p", userId: "a").position == 1)
        _ = try h.run(.queueClientLost("p", "a", connection: 3, lastSeenAt: h.now))
        h.clearEffects()
        h.pass(5_001)
        #expect(h.events.contains { $0.type == .queueLeft && $0.userId == "a" && $0.data.queueReason == .timeout })
        #expect(h.kicks.isEmpty, "its connection was already gone")
        // A ticket whose client never connected stays.
        #expect(try h.broker.queuePlace("p", userId: "b").position == 1)
    }

    @Test func aShutdownTellsQueuedClientsToComeBackAndKeepsTheirTickets() throws {
        var (h, _) = try Self.full()
        _ = try h.run(.queueHello("p", "qt-a", connection: 1))
        h.clearEffects()
        _ = try h.run(.shutdown(retryAfterMs: 1_000))
        #expect(h.kicks.contains(Kick(connection: 1, sessionId: "qt-a", reason: .shutdown, retryAfterMs: 1_000)))
        #expect(try h.broker.queue("p").map(\.ticket.userId) == ["a", "b"])
        #expect(!h.broker.queueClientConnected("p", "a"))
    }

    @Test func byeTakesTheTicketOutWithoutAKick() throws {
        var (h, _) = try Self.full()
        _ = try h.run(.queueHello("p", "qt-a", connection: 1))
        h.clearEffects()
        _ = try h.run(.queueBye("p", "a", connection: 1))
        #expect(h.events.contains { $0.type == .queueLeft && $0.userId == "a" && $0.data.queueReason == .left })
        #expect(h.kicks.isEmpty)
        #expect(throws: BrokerError.badToken) { try h.run(.queueBye("p", "b", connection: 1)) }
    }

    @Test func theOfferAndChangedPlacesAreToldOnTheConnectionAtMostOnceASecond() throws {
        var (h, held) = try Self.full()
        _ = try h.run(.queueHello("p", "qt-a", connection: 1))
        _ = try h.run(.queueHello("p", "qt-b", connection: 2))
        h.clearEffects()
        // No session ended yet: the estimates grow with the held session's age, and are told as they move,
        // but never more than once a second to a connection; the positions are unchanged.
        h.pass(3_000)
        for connection: ConnectionID in [1, 2] {
            let told = Self.notices(h).filter { $0.connection == connection }
            #expect(told.count <= 3, "\(told)")
            #expect(told.allSatisfy { if case .place(let p, _) = $0.kind { p == Int(connection) } else { false } })
        }
        _ = try h.run(.destroySession(held[0].id))
        let offered = try #require(Self.notices(h).last)
        #expect(offered.connection == 1 && offered.ticketId == "qt-a")
        guard case .offered(let concurrencyId, let until) = offered.kind else {
            Issue.record("an offer")
            return
        }
        #expect(
            concurrencyId == held[0].concurrencyId && until == h.broker.reservation(of: "a", in: "p")?.reservedUntil)
        h.clearEffects()
        h.pass(1_000)
        // b moved from 2 to 1: told within a second; a, offered, is told nothing more.
        #expect(Self.notices(h).map(\.connection) == [2])
        if case .place(let position, _) = Self.notices(h).first?.kind { #expect(position == 1) }
    }

    /// The push round is cut in slots, one every 50 ms, each telling the clients of its slot: 40 clients whose
    /// places all moved are told over the next second, a few at a time, each once (before, all in one tick:
    /// 10 k places held the broker long enough to make heartbeat expiries 20 ms late, `tether bench queue`);
    /// and however the places keep moving, no client is told twice within a second.
    @Test func aRoundOfPushesIsSpreadOverTheSecondAndTellsEachClientAtMostOnceASecond() throws {
        var (h, _) = try QueueTests.full(capacity: 1)
        _ = try QueueTests.queue(&h, "head")
        let users = (0..<40).map { "u\($0)" }
        for (i, user) in users.enumerated() {
            _ = try QueueTests.queue(&h, user)
            _ = try h.run(.queueHello("p", "qt-\(user)", connection: ConnectionID(i + 1)))
        }
        for _ in 0..<20 {  // the server ticks at each deadline: every 50 ms here
            h.now += 50
            _ = h.broker.tick(at: h.now)
        }
        h.clearEffects()
        _ = try h.run(.cancelTicket("p", "head"))  // every place moves up by one
        var toldAt: [ConnectionID: [Millis]] = [:]
        var perTick: [Int] = []
        let start = h.now
        var t = h.now
        while t < start + 4_000 {
            t += 50
            let told = h.broker.tick(at: t).compactMap { if case .queueNotice(let n) = $0 { n } else { nil } }
            perTick.append(told.count)
            for notice in told { toldAt[notice.connection, default: []].append(t) }
            // Keep the places moving: a new ticket ahead of everyone (priority 9) every 300 ms.
            if (t - start) % 300 == 0 {
                h.now = t
                _ = try QueueTests.queue(&h, "vip\(t)", priority: 9)
            }
        }
        #expect(toldAt.count == 40, "every client was told")
        #expect(perTick.prefix(20).reduce(0, +) >= 40, "each within the first second: \(perTick.prefix(20))")
        #expect(perTick.max() ?? 0 <= 8, "a few at a time, not 40 in one tick: \(perTick)")
        for (connection, times) in toldAt {
            let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
            #expect(gaps.allSatisfy { $0 >= 1_000 }, "connection \(connection) told at \(times)")
        }
    }
}
