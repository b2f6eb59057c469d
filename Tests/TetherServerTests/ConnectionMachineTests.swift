import Testing
import TetherCore
import TetherProtocol

@testable import TetherServer

/// The connection protocol as a pure machine: every rule of a WebSocket or TCP connection, tested with the
/// time as a number and no socket (issue 13, item 1).
@Suite struct ConnectionMachineTests {
    static let t0: Millis = 1_000_000
    static let session = Session(
        id: "s-1", projectId: "p", userId: "u", concurrencyId: "cc-p-1", epoch: 3, state: .connected, createdAt: t0)
    static let policy = Policy(capacity: 1, heartbeat: .init(intervalMs: 1_000, timeoutMs: 3_000))

    static func machine(_ transport: Transport = .websocket) -> ConnectionMachine {
        ConnectionMachine(connection: 7, transport: transport, now: t0)
    }

    /// A machine whose hello was accepted and is durable.
    static func welcomed(_ transport: Transport = .websocket) -> ConnectionMachine {
        var m = machine(transport)
        _ = m.received(.success(.hello(.token("t"))), at: t0 + 1)
        _ = m.authenticated(.token(session: "s-1", epoch: 3), newResumeToken: "r", newResumeTokenHash: "h", at: t0 + 1)
        _ = m.helloAccepted(session, policy: policy, at: t0 + 2)
        _ = m.durable(true, at: t0 + 3)
        return m
    }

    static func actions(_ a: ConnectionActions) -> [ConnectionAction] { Array(a) }

    @Test func aHelloIsCheckedSubmittedAndWelcomedOnceDurable() {
        var m = Self.machine()
        #expect(
            Self.actions(m.received(.success(.hello(.token("tok"))), at: Self.t0 + 5))
                == [.countInbound, .cancelHelloTimer, .pace(.token("tok"))])
        #expect(m.phase == .helloPending)
        // The server's hello pacer lets it through: the credential is checked.
        #expect(
            Self.actions(m.paced(nil, credential: .token("tok"), at: Self.t0 + 5)) == [.authenticate(.token("tok"))])
        // Frames racing the hello are read (they count) and ignored.
        #expect(Self.actions(m.received(.success(.ping(seq: 1, t: 1)), at: Self.t0 + 6)) == [.countInbound])
        let submit = m.authenticated(
            .token(session: "s-1", epoch: 3), newResumeToken: "r1", newResumeTokenHash: "h1", at: Self.t0 + 7)
        #expect(
            Self.actions(submit)
                == [
                    .register,
                    .submit(.hello("s-1", epoch: 3, connection: 7, transport: .websocket, resumeTokenHash: "h1")),
                ])
        // The cluster's other live nodes go into the welcome, for the client to try when this one is gone.
        let others = [
            ServerMessage.Connect(websocket: "ws://b:2/v1/connect", tcp: nil, http: "http://b:2/v1/heartbeat")
        ]
        #expect(
            Self.actions(m.helloAccepted(Self.session, policy: Self.policy, alternates: others, at: Self.t0 + 8))
                .isEmpty)
        #expect(m.attachedSession == "s-1" && !m.welcomed)
        let welcome = ServerMessage.Welcome(
            sessionId: "s-1", epoch: 3, concurrencyId: "cc-p-1", heartbeat: .init(intervalMs: 1_000, timeoutMs: 3_000),
            serverTime: Self.t0 + 8, resumeToken: "r1", reconnectGraceMs: Self.policy.reconnectGraceMs,
            alternates: others)
        #expect(Self.actions(m.durable(true, at: Self.t0 + 9)) == [.send(.welcome(welcome)), .startPinging])
        #expect(m.welcomed)
    }

    /// Over the server's hello rate: kick `busy` with the pacer's `retryAfterMs`, close 1013, nothing submitted.
    @Test(arguments: [Transport.websocket, .tcp])
    func aHelloOverTheRateIsToldBusyAndWhenToComeBack(transport: Transport) {
        var m = Self.machine(transport)
        _ = m.received(.success(.hello(.resumeToken("r"))), at: Self.t0)
        let actions = Self.actions(m.paced(1_234, credential: .resumeToken("r"), at: Self.t0))
        #expect(actions.contains(.send(.kick(reason: "busy", retryAfterMs: 1_234))))
        #expect(actions.last == .close(CloseCode(rawValue: 1013), reason: "busy"))
        #expect(!actions.contains { if case .submit = $0 { true } else { false } })
        #expect(!actions.contains { if case .lost = $0 { true } else { false } })
        #expect(m.isClosed)
        // A late pacer answer or credential check changes nothing.
        #expect(Self.actions(m.paced(nil, credential: .resumeToken("r"), at: Self.t0)).isEmpty)
    }

    @Test func aResumeTokenIsSubmittedByItsHash() {
        var m = Self.machine(.tcp)
        _ = m.received(.success(.hello(.resumeToken("old"))), at: Self.t0)
        let actions = m.authenticated(
            .resume(tokenHash: "H"), newResumeToken: "n", newResumeTokenHash: "N", at: Self.t0)
        #expect(
            Self.actions(actions)
                == [
                    .register,
                    .submit(.resume(resumeTokenHash: "H", connection: 7, transport: .tcp, newResumeTokenHash: "N")),
                ])
    }

    @Test(arguments: [
        (ConnectionMachine.Authentication.invalid, BrokerError?.none, KickReason.badToken),
        (.token(session: "s-1", epoch: 1), BrokerError.sessionNotFound("s-1"), .expired),
        (.token(session: "s-1", epoch: 1), BrokerError.fenced("s-1"), .badToken),
        (.resume(tokenHash: "x"), BrokerError.badToken, .badToken),
    ])
    func aRefusedHelloIsAKickWithItsReason(
        auth: ConnectionMachine.Authentication, error: BrokerError?, kick: KickReason
    ) {
        var m = Self.machine()
        _ = m.received(.success(.hello(.token("t"))), at: Self.t0)
        var actions = m.authenticated(auth, newResumeToken: "r", newResumeTokenHash: "h", at: Self.t0)
        if let error { actions = m.refused(error, at: Self.t0) }
        let code = CloseCode.forKick(kick.rawValue)
        #expect(
            Self.actions(actions)
                == [
                    .logRefusal(session: nil, reason: kick.rawValue, closeCode: code), .cancelHelloTimer, .stopPinging,
                    .unregister, .send(.kick(reason: kick.rawValue, retryAfterMs: nil)),
                    .close(code, reason: kick.rawValue),
                ])
        #expect(m.isClosed)
    }

    /// A hello refused because the server is stopping is told `shutdown` with the refusal's `retryAfterMs`
    /// (close 1001), which the SDKs treat as "come back": before, it was `expired` (4004), which ends a client
    /// that reconnected during a graceful shutdown, and its session with it.
    @Test func aHelloRefusedWhileTheServerStopsIsAShutdownKick() {
        for transport in [Transport.websocket, .tcp] {
            var m = Self.machine(transport)
            _ = m.received(.success(.hello(.token("t"))), at: Self.t0)
            _ = m.authenticated(
                .token(session: "s-1", epoch: 1), newResumeToken: "r", newResumeTokenHash: "h", at: Self.t0)
            let actions = Self.actions(m.refused(.stopping(retryAfterMs: 1_200), at: Self.t0))
            #expect(actions.contains(.send(.kick(reason: "shutdown", retryAfterMs: 1_200))))
            #expect(actions.last == .close(CloseCode.forKick("shutdown"), reason: "shutdown"))
            #expect(!actions.contains(.send(.kick(reason: "expired", retryAfterMs: nil))))
        }
        // An attached connection whose command is refused waits for the shutdown kick, `shutdown` as fallback.
        var attached = Self.welcomed()
        _ = attached.refused(.stopping(retryAfterMs: 1_000), at: Self.t0 + 10)
        #expect(attached.phase == .draining(fallback: .shutdown))
    }

    @Test func theHelloDeadlineAndTheFirstMessage() {
        var m = Self.machine(.tcp)
        #expect(m.helloDeadline == Self.t0 + 10_000)
        let expired = Self.actions(m.helloExpired(at: Self.t0 + 10_000))
        #expect(expired.contains(.close(.noHello, reason: "no hello within 10000 ms")))
        #expect(expired.contains(.send(.kick(reason: "noHello", retryAfterMs: nil))))  // TCP is told in a kick
        var ws = Self.machine()
        let first = Self.actions(ws.received(.success(.ping(seq: 1, t: 1)), at: Self.t0))
        #expect(first.last == .close(.protocolError, reason: ProtocolError.helloFirst.reason))
        #expect(!first.contains { if case .send = $0 { true } else { false } })  // WebSocket: the close frame says it
        // A welcomed connection ignores its hello deadline.
        var w = Self.welcomed()
        #expect(Self.actions(w.helloExpired(at: Self.t0 + 20_000)).isEmpty)
    }

    @Test func aPingIsAHeartbeatGatedBeforeItsPong() {
        var m = Self.welcomed()
        #expect(
            Self.actions(m.received(.success(.ping(seq: 5, t: 42)), at: Self.t0 + 100))
                == [
                    .countInbound, .clientSeq(5, previous: nil), .heartbeat("s-1", connection: 7, endsSuspension: true),
                    .pong(seq: 5, t: 42, st: Self.t0 + 100),
                ])
        #expect(
            Self.actions(m.received(.success(.ping(seq: 6, t: 43)), at: Self.t0 + 200)).contains(
                .clientSeq(6, previous: 5)))
        // Not yet welcomed: the heartbeat counts but no pong goes out before the welcome.
        var early = Self.machine()
        _ = early.received(.success(.hello(.token("t"))), at: Self.t0)
        _ = early.authenticated(
            .token(session: "s-1", epoch: 3), newResumeToken: "r", newResumeTokenHash: "h", at: Self.t0)
        _ = early.helloAccepted(Self.session, policy: Self.policy, at: Self.t0)
        #expect(
            !Self.actions(early.received(.success(.ping(seq: 1, t: 1)), at: Self.t0 + 1)).contains {
                if case .send = $0 { true } else { false }
            })
    }

    @Test func aRefusedCommandDrainsThenClosesWithTheFallback() {
        var m = Self.welcomed()
        #expect(Self.actions(m.refused(.fenced("s-1"), at: Self.t0 + 10)) == [.stopPinging, .scheduleDrain(1_000)])
        #expect(m.phase == .draining(fallback: .replaced))
        // Frames while draining are ignored.
        #expect(Self.actions(m.received(.success(.ping(seq: 1, t: 1)), at: Self.t0 + 11)) == [.countInbound])
        let closed = Self.actions(m.drainExpired(at: Self.t0 + 1_010))
        #expect(
            closed.last == .close(.replaced, reason: "replaced")
                && !closed.contains { if case .lost = $0 { true } else { false } })
        // The broker's kick usually wins the race, with the real reason.
        var k = Self.welcomed()
        _ = k.refused(.sessionNotFound("s-1"), at: Self.t0)
        #expect(k.phase == .draining(fallback: .expired))
        let kicked = Self.actions(k.kicked(Kick(connection: 7, sessionId: "s-1", reason: .destroyed)))
        #expect(
            kicked.suffix(2) == [
                .send(.kick(reason: "destroyed", retryAfterMs: nil)), .close(.destroyed, reason: "destroyed"),
            ])
        #expect(Self.actions(k.drainExpired(at: Self.t0 + 2_000)).isEmpty)
    }

    @Test func aBadFieldIsAProtocolErrorAndTheSessionGoesToGrace() {
        var m = Self.welcomed(.tcp)
        let actions = Self.actions(
            m.refused(.invalidParameter(field: "expectedMs", message: "must be positive"), at: Self.t0))
        #expect(actions.contains(.lost("s-1", .error)))
        #expect(actions.contains(.send(.kick(reason: "protocolError", retryAfterMs: nil))))
        #expect(actions.last == .close(.protocolError, reason: "expectedMs: must be positive"))
        var s = Self.welcomed()
        #expect(
            Self.actions(s.received(.success(.suspend(expectedMs: 5, reason: "nap")), at: Self.t0)).last
                == .close(.protocolError, reason: "unknown suspend reason"))
        var h = Self.welcomed()
        #expect(
            Self.actions(h.received(.success(.hello(.token("t"))), at: Self.t0)).last
                == .close(.protocolError, reason: "hello was already accepted"))
        var d = Self.welcomed()
        let undecodable = Self.actions(d.received(.failure(.invalidJSON), at: Self.t0))
        #expect(
            undecodable.contains(.lost("s-1", .error))
                && undecodable.last == .close(.protocolError, reason: "invalid JSON"))
    }

    @Test func byeSuspendPongAndControlFrames() {
        var m = Self.welcomed()
        #expect(
            Self.actions(m.received(.success(.suspend(expectedMs: 60_000, reason: "background")), at: Self.t0))
                == [.countInbound, .submit(.suspend("s-1", connection: 7, expectedMs: 60_000, reason: .background))])
        #expect(
            Self.actions(m.controlFrame(at: Self.t0)) == [
                .countInbound, .heartbeat("s-1", connection: 7, endsSuspension: false),
            ])
        #expect(
            Self.actions(m.received(.success(.bye), at: Self.t0))
                == [
                    .countInbound, .submit(.bye("s-1", connection: 7)), .cancelHelloTimer, .stopPinging, .unregister,
                    .send(.kick(reason: "left", retryAfterMs: nil)), .close(.normal, reason: "left"),
                ])
        #expect(Self.actions(m.received(.success(.ping(seq: 1, t: 1)), at: Self.t0)).isEmpty)  // closed: not read
    }

    @Test func theRateLimitClosesAFlood() {
        var m = Self.welcomed()
        var closedAt: Int?
        for i in 0..<200 {
            let actions = Self.actions(m.received(.success(.ping(seq: UInt64(i), t: 0)), at: Self.t0 + 10))
            if actions.contains(.close(.rateLimited, reason: ProtocolError.rateLimited.reason)) {
                closedAt = i
                #expect(actions.contains(.lost("s-1", .error)))
                break
            }
        }
        #expect(closedAt == 99)  // the burst of 100 (the hello was the first), all in the same millisecond
    }

    @Test func quietClientsArePingedOnTheirCadence() {
        var m = Self.welcomed()  // interval 1000; last inbound at t0 + 1 (the hello)
        #expect(Self.actions(m.sweep(at: Self.t0 + 400)).isEmpty)  // quiet for less than half an interval
        #expect(Self.actions(m.sweep(at: Self.t0 + 501)) == [.ping(seq: 1)])
        #expect(Self.actions(m.sweep(at: Self.t0 + 900)).isEmpty)  // unanswered: the next one an interval later
        #expect(Self.actions(m.sweep(at: Self.t0 + 1_501)) == [.ping(seq: 2)])
        #expect(Self.actions(m.pingAnswered(seq: 2, at: Self.t0 + 1_521)) == [.rtt(20)])
        #expect(Self.actions(m.pingAnswered(seq: 2, at: Self.t0 + 1_600)).isEmpty)  // answered once
        #expect(m.sweepEveryMs == 125)
    }

    @Test func theStoreFailingTheHelloClosesWith1011() {
        var m = Self.machine()
        _ = m.received(.success(.hello(.token("t"))), at: Self.t0)
        _ = m.authenticated(.token(session: "s-1", epoch: 3), newResumeToken: "r", newResumeTokenHash: "h", at: Self.t0)
        _ = m.helloAccepted(Self.session, policy: Self.policy, at: Self.t0)
        let actions = Self.actions(m.durable(false, at: Self.t0))
        #expect(
            actions.contains(.lost("s-1", .error))
                && actions.last == .close(CloseCode(rawValue: 1011), reason: "store unavailable"))
    }

    @Test func aPeerThatGoesAwayLosesItsSessionOnce() {
        var m = Self.welcomed()
        #expect(
            Self.actions(m.peerClosed(cause: .closed)) == [
                .cancelHelloTimer, .stopPinging, .unregister, .lost("s-1", .closed),
            ])
        #expect(Self.actions(m.kicked(Kick(connection: 7, sessionId: "s-1", reason: .expired))).isEmpty)
        var fresh = Self.machine()
        #expect(Self.actions(fresh.peerClosed(cause: .error)) == [.cancelHelloTimer, .stopPinging, .unregister])
    }
}

/// The machine when the connection's heartbeats are recorded on its link (issue 13, item 2): a heartbeat is
/// `seen` there and reaches the broker only to end a suspension.
@Suite struct ConnectionMachineLivenessTests {
    static let t0: Millis = 1_000_000

    static func welcomed() -> ConnectionMachine {
        var m = ConnectionMachine(connection: 7, transport: .websocket, settings: .init(watchesLiveness: true), now: t0)
        _ = m.received(.success(.hello(.token("t"))), at: t0)
        _ = m.authenticated(.token(session: "s-1", epoch: 3), newResumeToken: "r", newResumeTokenHash: "h", at: t0)
        #expect(
            Array(m.helloAccepted(ConnectionMachineTests.session, policy: ConnectionMachineTests.policy, at: t0 + 1))
                == [.awaitWelcome])
        #expect(Array(m.durable(true, at: t0 + 2)).first == .watch(at: t0 + 2, until: t0 + 3_002))
        return m
    }

    /// Between the accepted hello and its durable welcome the connection waits on the server: it is marked
    /// so (the broker counts it as heard), frames racing the welcome do not replace the mark, and the
    /// heartbeat window starts when the welcome goes out, however slow the commit was.
    @Test func theHeartbeatWindowStartsWithTheWelcome() {
        let t0 = Self.t0
        var m = ConnectionMachine(connection: 7, transport: .websocket, settings: .init(watchesLiveness: true), now: t0)
        _ = m.received(.success(.hello(.token("t"))), at: t0)
        _ = m.authenticated(.token(session: "s-1", epoch: 3), newResumeToken: "r", newResumeTokenHash: "h", at: t0)
        #expect(
            Array(m.helloAccepted(ConnectionMachineTests.session, policy: ConnectionMachineTests.policy, at: t0 + 1))
                == [.awaitWelcome])
        let racing = Array(m.received(.success(.ping(seq: 1, t: 5)), at: t0 + 2_000))
        #expect(!racing.contains { if case .seen = $0 { true } else { false } })
        #expect(!racing.contains { if case .pong = $0 { true } else { false } })
        // A commit that took 5 s, past the 3 s timeout: the window starts now.
        let welcome = Array(m.durable(true, at: t0 + 5_000))
        #expect(welcome.first == .watch(at: t0 + 5_000, until: t0 + 8_000))
        #expect(welcome.contains { if case .send(.welcome) = $0 { true } else { false } })
    }

    @Test func aHeartbeatTouchesOnlyTheLink() {
        var m = Self.welcomed()
        #expect(
            Array(m.received(.success(.ping(seq: 1, t: 5)), at: Self.t0 + 100))
                == [
                    .countInbound, .seen(at: Self.t0 + 100, until: Self.t0 + 3_100), .clientSeq(1, previous: nil),
                    .pong(seq: 1, t: 5, st: Self.t0 + 100),
                ])
        #expect(
            Array(m.controlFrame(at: Self.t0 + 200)) == [
                .countInbound, .seen(at: Self.t0 + 200, until: Self.t0 + 3_200),
            ])
    }

    @Test func aSuspensionIsTheBrokersUntilTheNextPing() {
        var m = Self.welcomed()
        let suspend = Array(m.received(.success(.suspend(expectedMs: 60_000, reason: "background")), at: Self.t0 + 10))
        #expect(
            suspend.suffix(2) == [
                .submit(.suspend("s-1", connection: 7, expectedMs: 60_000, reason: .background)), .unwatch,
            ])
        #expect(m.suspended)
        // Pings answered by a background tab record nothing: the suspension is the broker's to time.
        #expect(Array(m.controlFrame(at: Self.t0 + 20)) == [.countInbound])
        let back = Array(m.received(.success(.ping(seq: 2, t: 6)), at: Self.t0 + 40_000))
        #expect(
            back == [
                .countInbound, .clientSeq(2, previous: nil),
                .heartbeat("s-1", connection: 7, endsSuspension: true),
                .watch(at: Self.t0 + 40_000, until: Self.t0 + 43_000),
                .pong(seq: 2, t: 6, st: Self.t0 + 40_000),
            ])
        #expect(!m.suspended)
    }

    @Test func closingStopsWatching() {
        var m = Self.welcomed()
        #expect(Array(m.peerClosed(cause: .closed)).contains(.unwatch))
        var d = Self.welcomed()
        #expect(Array(d.refused(.fenced("s-1"), at: Self.t0)).contains(.unwatch))
    }
}
