import Testing
import TetherCore

/// A broker that holds some projects of a cluster: it adopts a project's rows as a restart restores them
/// (`adopt`), and gives a project up without ending or writing anything (`release`), so that per-project
/// leases can move projects between nodes with the restart path (issue 14).
@Suite struct ProjectOwnershipTests {
    static let takeover: BrokerConfiguration = {
        var configuration = BrokerConfiguration()
        configuration.restoredConnectionCause = .nodeLost
        return configuration
    }()

    /// Projects "a" and "b" with a session in each live state, a reservation, and a queued client on "b".
    static func cluster() throws -> Harness {
        var h = Harness(configuration: takeover)
        for project in ["a", "b"] {
            try h.project(project, capacity: 4, grace: 60_000)
            _ = try h.connected("connected", in: project)
            let (suspended, cs) = try h.connected("suspended", in: project)
            try h.run(.suspend(suspended.id, connection: cs, expectedMs: 100_000, reason: .background))
            let (grace, cg) = try h.connected("grace", in: project)
            try h.run(.connectionLost(grace.id, connection: cg, cause: .closed))
            _ = try h.apply("reserved", in: project)
        }
        _ = try h.run(.updateProject("b", ProjectPatch(queue: QueuePatch(enabled: true, clientTimeoutMs: 5_000))))
        _ = try h.run(.applyQueued("b", userId: "waiting", userIp: nil, priority: 0, ticketId: "qt-waiting"))
        _ = try h.run(.queueHello("b", "qt-waiting", connection: 99))
        return h
    }

    @Test func adoptingAProjectBesideAnotherIsTheRestartOfBoth() throws {
        let h = try Self.cluster()
        let rows = h.broker.snapshot
        let at = h.now + 2_000
        var whole = Broker(configuration: Self.takeover, restoring: rows, at: at)
        let wholeEffects = whole.takeEffects()
        var split = Broker(configuration: Self.takeover, restoring: rows.only(["a"]), at: at)
        var splitEffects = split.takeEffects()
        splitEffects += split.adopt(rows.only(["b"]))
        #expect(split.projectIds == ["a", "b"])
        #expect(split.snapshot == whole.snapshot)
        #expect(split.armedDeadlines == whole.armedDeadlines)
        // The same transitions (cursors aside: the order of the projects differs).
        func uncursored(_ effects: [Effect]) -> Set<Effect> {
            Set(
                effects.map { effect in
                    guard case .event(var e) = effect else { return effect }
                    e.cursor = 0
                    return .event(e)
                })
        }
        #expect(uncursored(splitEffects) == uncursored(wholeEffects))
        for project in ["a", "b"] {
            let s = try #require(split.session(of: "connected", in: project))
            #expect(s.state == .grace && s.lastCause == .nodeLost && s.deadlineAt == at + 60_000)
        }
    }

    @Test func adoptingAProjectHeldAlreadyChangesNothing() throws {
        var h = try Self.cluster()
        let before = h.broker.snapshot
        let count = try h.broker.count("a")
        #expect(h.broker.adopt(before.only(["a"])).isEmpty)
        #expect(h.broker.snapshot == before)
        #expect(try h.broker.count("a") == count)
    }

    @Test func aReleasedProjectLeavesWithoutAWriteAndItsClientsAreToldToComeBack() throws {
        var h = try Self.cluster()
        let before = h.broker.snapshot
        let connections = Set(before.sessions.filter { $0.projectId == "b" }.compactMap(\.connection))
        #expect(connections.count == 2)  // connected and suspended
        let effects = h.broker.release("b", retryAfterMs: 250)
        // Only kicks: nothing is saved, ended, deleted or told as an event.
        let kicks = effects.compactMap { if case .kick(let k) = $0 { k } else { nil } }
        #expect(kicks.count == effects.count)
        #expect(Set(kicks.map(\.connection)) == connections.union([99]))
        #expect(kicks.allSatisfy { $0.reason == .shutdown && $0.retryAfterMs == 250 })
        #expect(h.broker.projectIds == ["a"])
        #expect(throws: BrokerError.projectNotFound("b")) { try h.broker.count("b") }
        #expect(h.broker.snapshot == before.only(["a"]))
        // Its resume tokens no longer resume here.
        let token = try #require(
            before.sessions.first { $0.projectId == "b" && $0.userId == "connected" }?.resumeTokenHash)
        #expect(throws: BrokerError.self) {
            try h.run(.resume(resumeTokenHash: token, connection: 500, transport: .websocket, newResumeTokenHash: "x"))
        }
        // Its deadlines are gone with it: long past every one of them, only project "a" has transitions.
        h.clearEffects()
        h.pass(400_000)
        #expect(
            h.effects.allSatisfy { effect in
                switch effect {
                case .event(let e): e.projectId == "a"
                case .saveSession(let s): s.projectId == "a"
                case .saveReservation(let r): r.projectId == "a"
                case .deleteReservation(let projectId, _), .deleteTicket(let projectId, _): projectId == "a"
                case .kick(let k): k.connection != 99
                default: true
                }
            })
        #expect(!h.events.isEmpty && h.events.allSatisfy { $0.projectId == "a" })
    }

    @Test func aReleasedProjectAdoptedAgainIsWhatTheStoreKept() throws {
        var h = try Self.cluster()
        let stored = h.broker.snapshot  // what the store holds: a release writes nothing
        _ = h.broker.release("b", retryAfterMs: nil)
        _ = h.broker.adopt(stored.only(["b"]))
        let fresh = Broker(configuration: Self.takeover, restoring: stored.only(["b"]), at: h.now)
        #expect(h.broker.snapshot.only(["b"]).sessions == fresh.snapshot.sessions)
        #expect(h.broker.snapshot.only(["b"]).reservations == fresh.snapshot.reservations)
        #expect(h.broker.snapshot.only(["b"]).tickets == fresh.snapshot.tickets)
        #expect(try h.broker.count("b") == fresh.count("b"))
        // And the other project's rows were never touched (the cursor moved: the adoption's own events).
        let a = h.broker.snapshot.only(["a"])
        let storedA = stored.only(["a"])
        #expect(a.projects == storedA.projects && a.sessions == storedA.sessions)
        #expect(a.reservations == storedA.reservations && a.tickets == storedA.tickets)
    }

    @Test func releasingAProjectNotHeldGivesNothing() throws {
        var h = try Self.cluster()
        let before = h.broker.snapshot
        #expect(h.broker.release("nope", retryAfterMs: 100).isEmpty)
        #expect(h.broker.snapshot == before)
    }

    @Test func theNextCursorIsAfterTheAdoptedRows() throws {
        var broker = Broker(configuration: Self.takeover, now: 1_000, cursor: 5)
        let h = try Self.cluster()
        var rows = h.broker.snapshot.only(["a"])
        rows.cursor = 40
        let effects = broker.adopt(rows)
        let cursors = effects.compactMap { if case .event(let e) = $0 { e.cursor } else { nil } }
        #expect(!cursors.isEmpty && cursors.allSatisfy { $0 > 40 })
    }
}
