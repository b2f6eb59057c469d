import Testing
import TetherCore

@Suite struct ProjectTests {
    @Test func aProjectGetsThePolicyDefaultsOfTheContract() throws {
        var h = Harness()
        guard case .project(let p) = try h.run(.createProject(id: "demo", name: "Demo", policy: Policy())) else {
            Issue.record("no project")
            return
        }
        #expect(
            p.policy.capacity == 10 && p.policy.heartbeat.intervalMs == 5_000 && p.policy.heartbeat.timeoutMs == 15_000)
        #expect(p.policy.reconnectGraceMs == 90_000 && p.policy.reservationTtlMs == 30_000)
        #expect(p.policy.connectTimeoutMs == 60_000 && p.policy.maxSuspendMs == 300_000 && p.policy.webhook == nil)
        #expect(h.effects == [.saveProject(p)])
        #expect(throws: BrokerError.projectExists("demo")) {
            try h.run(.createProject(id: "demo", name: "", policy: Policy()))
        }
        #expect(h.broker.allProjects == [p])
    }

    /// Every bad value is refused with the field named, and nothing changes.
    @Test(arguments: [
        (Policy(capacity: -1), "capacity"),
        (Policy(capacity: 100_001), "capacity"),
        (Policy(heartbeat: .init(intervalMs: 50, timeoutMs: 15_000)), "heartbeat.intervalMs"),
        (Policy(heartbeat: .init(intervalMs: 5_000, timeoutMs: 9_999)), "heartbeat.timeoutMs"),
        (Policy(reconnectGraceMs: -1), "reconnectGraceMs"),
        (Policy(reservationTtlMs: 0), "reservationTtlMs"),
        (Policy(connectTimeoutMs: 99_999_999), "connectTimeoutMs"),
        (Policy(maxSuspendMs: -5), "maxSuspendMs"),
        (Policy(webhook: Webhook(url: "ftp://x", secret: "s")), "webhook.url"),
        (Policy(webhook: Webhook(url: "http://x y/", secret: "s")), "webhook.url"),
        (Policy(webhook: Webhook(url: "https://example.test/hook", secret: "")), "webhook.secret"),
    ])
    func badPolicyValuesAreRefusedWithTheFieldNamed(policy: Policy, field: String) throws {
        var h = Harness()
        do {
            try h.run(.createProject(id: "p", name: "", policy: policy))
            Issue.record("accepted a bad \(field)")
        } catch {
            guard case .invalidParameter(let named, let message) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(named == field)
            #expect(error.code == "InvalidParameterValue" && error.message.hasPrefix(field) && !message.isEmpty)
        }
        #expect(h.broker.allProjects.isEmpty && h.effects.isEmpty)
    }

    @Test(arguments: ["", "has space", "semi;colon", String(repeating: "x", count: 65), "ünïcode"])
    func badProjectIdsAreRefused(id: String) {
        var h = Harness()
        #expect(throws: BrokerError.self) { try h.run(.createProject(id: id, name: "", policy: Policy())) }
        #expect(h.broker.allProjects.isEmpty)
    }

    /// ApplyConcurrent takes the project's state out of its table while it works (so its tables are never
    /// copied); every refusal must put it back exactly as it was.
    @Test func aRefusedApplyLeavesTheProjectAsItWas() throws {
        var h = Harness()
        try h.project(capacity: 2)
        let held = try h.apply("u1")
        _ = try h.create("u1")
        _ = try h.apply("u2")
        let before = try h.broker.count("p")
        let holders = h.broker.slotHolders("p")
        #expect(throws: BrokerError.self) { _ = try h.apply("") }
        #expect(throws: BrokerError.self) {
            _ = try h.run(.apply("p", userId: "u3", userIp: String(repeating: "x", count: 100_000)))
        }
        #expect(throws: BrokerError.self) { _ = try h.apply("u3") }  // no idle slot left
        #expect(try h.broker.count("p") == before)
        #expect(h.broker.slotHolders("p") == holders)
        #expect(h.broker.reservation(of: "u2", in: "p") != nil)
        #expect(h.broker.session(of: "u1", in: "p")?.concurrencyId == held.concurrencyId)
        #expect(try h.apply("u2").reused)  // the project still answers
    }

    /// Lengths count characters (Unicode code points), as the OpenAPI document's `maxLength` does, so a value
    /// the document allows is never refused for its bytes.
    @Test func lengthsCountCharactersNotBytes() throws {
        var h = Harness()
        try h.project(capacity: 3)
        let wide = String(repeating: "é", count: 128)  // 256 bytes
        #expect(throws: Never.self) { _ = try h.apply(wide) }
        #expect(throws: BrokerError.self) { _ = try h.apply(wide + "é") }
        let name = String(repeating: "名", count: 256)  // 768 bytes
        #expect(throws: Never.self) { try h.run(.createProject(id: "q", name: name, policy: Policy())) }
        #expect(throws: BrokerError.self) { try h.run(.createProject(id: "r", name: name + "名", policy: Policy())) }
        #expect(throws: Never.self) {
            _ = try h.run(.apply("p", userId: "ip", userIp: String(repeating: "€", count: 16_384)))
        }
    }

    @Test func badNamesAndUserIdsAreRefused() throws {
        var h = Harness()
        #expect(throws: BrokerError.self) { try h.run(.createProject(id: "p", name: "a\u{7}b", policy: Policy())) }
        try h.project()
        for bad in ["", String(repeating: "u", count: 129), "tab\tuser"] {
            #expect(
                throws: BrokerError.invalidParameter(
                    field: "userId", message: "must be 1 to 128 characters without control characters")
            ) {
                _ = try h.apply(bad)
            }
        }
        #expect(
            throws: BrokerError.invalidParameter(field: "parameters", message: "must be at most 16384 characters")
        ) {
            _ = try h.apply("u")
            try h.run(
                .createSession(
                    "p", userId: "u", sessionId: "x", metadata: .init(parameters: String(repeating: "x", count: 20_000))
                ))
        }
        #expect(h.broker.session(of: "u", in: "p") == nil)
    }

    @Test func anUpdateChangesOnlyWhatItNamesAndIsValidatedWhole() throws {
        var h = Harness()
        let p = try h.project(capacity: 2)
        h.pass(1_000)
        guard
            case .project(let q) = try h.run(
                .updateProject(
                    "p",
                    ProjectPatch(
                        name: "renamed", reconnectGraceMs: 0,
                        webhook: .set(Webhook(url: "https://example.test/h", secret: "k")))))
        else { return }
        #expect(
            q.name == "renamed" && q.policy.reconnectGraceMs == 0 && q.policy.capacity == 2
                && q.updatedAt == p.createdAt + 1_000)
        #expect(q.policy.webhook?.url == "https://example.test/h")
        // A timeout below twice the interval is refused as a whole; nothing changes.
        #expect(throws: BrokerError.self) { try h.run(.updateProject("p", ProjectPatch(heartbeatIntervalMs: 10_000))) }
        #expect(throws: BrokerError.self) { try h.run(.updateProject("p", ProjectPatch(name: "\u{1}"))) }
        #expect(try h.broker.project("p") == q)
        guard
            case .project(let r) = try h.run(
                .updateProject(
                    "p",
                    ProjectPatch(
                        heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000, reservationTtlMs: 1_000,
                        connectTimeoutMs: 2_000, maxSuspendMs: 0, webhook: .remove)))
        else { return }
        #expect(
            r.policy.webhook == nil && r.policy.heartbeat == .init(intervalMs: 1_000, timeoutMs: 3_000)
                && r.policy.maxSuspendMs == 0)
        #expect(throws: BrokerError.projectNotFound("nope")) { try h.run(.updateProject("nope", ProjectPatch())) }
    }

    @Test func shrinkingCapacityNeverEvictsALiveSession() throws {
        var h = Harness()
        try h.project(capacity: 3)
        let (a, ca) = try h.connected("a")
        let (b, _) = try h.connected("b")
        let (c, _) = try h.connected("c")
        try h.run(.updateProject("p", ProjectPatch(capacity: 1)))
        #expect([a, b, c].allSatisfy { h.state($0.id) == .connected })
        #expect(
            try h.broker.count("p")
                == ConcurrencyCount(
                    total: 3, idle: 0, reserved: 0, running: 3, created: 0, connected: 3, suspended: 0, grace: 0))
        // A freed surplus slot retires instead of becoming idle.
        try h.run(.destroySession(c.id))
        #expect(h.events.last?.type == .concurrencyReleased && h.events.last?.data.retired == true)
        #expect(try h.broker.count("p").total == 2)
        #expect(throws: BrokerError.self) { _ = try h.apply("d") }
        try h.run(.bye(a.id, connection: ca))
        #expect(
            try h.broker.count("p")
                == ConcurrencyCount(
                    total: 1, idle: 0, reserved: 0, running: 1, created: 0, connected: 1, suspended: 0, grace: 0))
        // Growing brings slots back.
        try h.run(.updateProject("p", ProjectPatch(capacity: 3)))
        #expect(try h.broker.count("p").idle == 2)
        #expect(try h.apply("d").concurrencyId != b.concurrencyId)
        try h.run(.updateProject("p", ProjectPatch(capacity: 0)))
        #expect(try h.broker.count("p").idle == 0)
    }

    @Test func deletingAProjectEndsItsSessionsAndReservations() throws {
        var h = Harness()
        try h.project(capacity: 3)
        let (a, ca) = try h.connected("a")
        _ = try h.apply("b")
        guard case .project(let p) = try h.run(.deleteProject("p")) else { return }
        #expect(p.id == "p")
        #expect(h.ended(a.id)?.endReason == .projectDeleted)
        #expect(h.kicks.last == Kick(connection: ca, sessionId: a.id, reason: .destroyed))
        #expect(h.effects.contains(.deleteReservation("p", "b")) && h.effects.contains(.deleteProject("p")))
        #expect(h.events.filter { $0.type == .concurrencyReleased }.count == 2)
        #expect(throws: BrokerError.projectNotFound("p")) { _ = try h.broker.count("p") }
        #expect(throws: BrokerError.projectNotFound("p")) { _ = try h.broker.sessions(in: "p") }
        #expect(throws: BrokerError.projectNotFound("p")) { try h.run(.deleteProject("p")) }
        #expect(throws: BrokerError.projectNotFound("p")) { _ = try h.apply("z") }
        #expect(throws: BrokerError.projectNotFound("p")) { _ = try h.create("z") }
    }

    @Test func errorsCarryTheContractsCodes() {
        let cases: [(BrokerError, String)] = [
            (.invalidParameter(field: "f", message: "m"), "InvalidParameterValue"),
            (.projectNotFound("p"), "ResourceNotFound.Project"), (.projectExists("p"), "ResourceInUse.Project"),
            (.sessionNotFound("s"), "ResourceNotFound.SessionNotFound"),
            (.noIdle(retryAfterMs: 1), "ResourceNotFound.NoIdle"),
            (.lockTimeout("u"), "FailedOperation.LockTimeout"), (.fenced("s"), "FailedOperation.Fenced"),
            (.badToken, "AuthFailure.BadToken"),
        ]
        for (error, code) in cases {
            #expect(error.code == code)
            #expect(!error.message.isEmpty)
        }
    }
}
