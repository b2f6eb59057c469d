import Testing
import TetherProtocol

@testable import TetherClient

@Suite struct ReconnectPlannerTests {
    func planner(grace: Duration = .seconds(10)) -> ReconnectPlanner {
        ReconnectPlanner(backoff: Backoff(base: .milliseconds(100), cap: .seconds(1)), grace: grace)
    }

    @Test(arguments: [
        ("replaced", TetherClientEndReason.replaced), ("destroyed", .destroyed), ("left", .left),
        ("badToken", .badToken), ("originNotAllowed", .originNotAllowed),
        ("protocolError", .protocolError(code: 4000, reason: "protocolError")),
        ("noHello", .protocolError(code: 4008, reason: "noHello")),
        ("rateLimited", .protocolError(code: 4029, reason: "rateLimited")),
        ("tooLarge", .protocolError(code: 1009, reason: "tooLarge")),
    ])
    func terminalKicksEndTheClient(reason: String, expected: TetherClientEndReason) {
        var p = planner()
        #expect(
            p.lost(.kicked(reason: reason, retryAfterMs: nil), welcomed: true, now: .seconds(1), unit: 0.5)
                == .end(expected))
        #expect(p.attempt == 0)
    }

    @Test(arguments: [
        (UInt16(4001), TetherClientEndReason.badToken), (4002, .replaced), (4003, .destroyed), (1000, .left),
        (4000, .protocolError(code: 4000, reason: "x")), (4008, .protocolError(code: 4008, reason: "x")),
        (1009, .protocolError(code: 1009, reason: "x")), (4030, .originNotAllowed),
    ])
    func terminalCloseCodesWithoutAKickEndTheClient(code: UInt16, expected: TetherClientEndReason) {
        var p = planner()
        #expect(p.lost(.closed(code: code, reason: "x"), welcomed: true, now: .zero, unit: 0) == .end(expected))
    }

    @Test func expiredAnsweringAHelloEnds() {
        var p = planner()
        #expect(
            p.lost(.kicked(reason: "expired", retryAfterMs: nil), welcomed: false, now: .zero, unit: 0)
                == .end(.expired))
        #expect(p.lost(.closed(code: 4004, reason: ""), welcomed: false, now: .zero, unit: 0) == .end(.expired))
    }

    @Test func expiredAfterAWelcomeReconnectsWhileGraceLasts() {
        var p = planner()
        #expect(
            p.lost(.kicked(reason: "expired", retryAfterMs: nil), welcomed: true, now: .zero, unit: 0.5)
                == .reconnect(attempt: 1, delay: .milliseconds(50)))
    }

    @Test func expiredWithGraceZeroEnds() {
        var p = planner(grace: .zero)
        #expect(
            p.lost(.kicked(reason: "expired", retryAfterMs: nil), welcomed: true, now: .zero, unit: 0.5)
                == .end(.expired))
    }

    @Test func transportLossesBackOffExponentiallyWithTheInjectedDraw() {
        var p = planner()
        let draws = [1.0, 1.0, 1.0, 0.5, 0.0, 1.0]
        var decisions: [ReconnectPlanner.Decision] = []
        for (i, unit) in draws.enumerated() {
            decisions.append(
                p.lost(.transport("refused"), welcomed: i == 0, now: .milliseconds(Int64(i) * 10), unit: unit))
        }
        #expect(
            decisions == [
                .reconnect(attempt: 1, delay: .milliseconds(100)), .reconnect(attempt: 2, delay: .milliseconds(200)),
                .reconnect(attempt: 3, delay: .milliseconds(400)), .reconnect(attempt: 4, delay: .milliseconds(400)),
                .reconnect(attempt: 5, delay: .zero), .reconnect(attempt: 6, delay: .seconds(1)),
            ])
    }

    @Test func aWelcomeResetsTheAttemptsAndTheWindow() {
        var p = planner()
        _ = p.lost(.transport("x"), welcomed: true, now: .zero, unit: 1)
        _ = p.lost(.transport("x"), welcomed: false, now: .seconds(1), unit: 1)
        #expect(p.attempt == 2)
        p.welcomed(grace: .seconds(3))
        #expect(p.attempt == 0)
        #expect(p.windowEnd == nil)
        #expect(
            p.lost(.transport("x"), welcomed: true, now: .seconds(20), unit: 1)
                == .reconnect(attempt: 1, delay: .milliseconds(100)))
        #expect(p.windowEnd == .seconds(23))
    }

    @Test func nothingGetsBackInAfterTheGraceWindow() {
        var p = planner(grace: .seconds(2))
        #expect(p.lost(.transport("x"), welcomed: true, now: .seconds(10), unit: 1) != .end(.graceExpired))
        #expect(p.lost(.transport("x"), welcomed: false, now: .milliseconds(11_999), unit: 1) != .end(.graceExpired))
        #expect(p.lost(.transport("x"), welcomed: false, now: .seconds(12), unit: 1) == .end(.graceExpired))
    }

    @Test func delaysNeverOvershootTheWindow() {
        var p = planner(grace: .seconds(2))
        _ = p.lost(.transport("x"), welcomed: true, now: .zero, unit: 1)
        #expect(
            p.lost(.transport("x"), welcomed: false, now: .milliseconds(1_950), unit: 1)
                == .reconnect(attempt: 2, delay: .milliseconds(50)))
    }

    @Test func graceZeroEndsAtTheFirstLoss() {
        var p = planner(grace: .zero)
        #expect(p.lost(.transport("reset"), welcomed: true, now: .seconds(5), unit: 0) == .end(.graceExpired))
    }

    @Test func shutdownKickWaitsAtLeastRetryAfter() {
        var p = planner()
        #expect(
            p.lost(.kicked(reason: "shutdown", retryAfterMs: 1_500), welcomed: true, now: .zero, unit: 0)
                == .reconnect(attempt: 1, delay: .milliseconds(1_500)))
    }

    /// A hello over the server's rate (kick `busy`, close 1013) is retried no sooner than it says, inside the
    /// window the first loss opened; it does not end the client.
    @Test func aBusyKickWaitsItsRetryAfterWithinTheWindow() {
        var p = planner(grace: .seconds(10))
        _ = p.lost(.transport("reset"), welcomed: true, now: .zero, unit: 0)
        #expect(
            p.lost(.kicked(reason: "busy", retryAfterMs: 2_500), welcomed: false, now: .seconds(1), unit: 0)
                == .reconnect(attempt: 2, delay: .milliseconds(2_500)))
        #expect(p.windowEnd == .seconds(10))
        #expect(
            p.lost(.closed(code: 1013, reason: "busy"), welcomed: false, now: .seconds(4), unit: 0)
                == .reconnect(attempt: 3, delay: .zero))
        #expect(
            p.lost(.kicked(reason: "busy", retryAfterMs: 7_000), welcomed: false, now: .seconds(5), unit: 0)
                == .end(.graceExpired))
    }

    /// The address holds as many connections as the server allows (kick `tooManyConnections` on TCP): a
    /// reconnect after its `retryAfterMs`, not the end of the client.
    @Test func tooManyConnectionsFromTheAddressIsRetriedAfterItsRetryAfter() {
        var p = planner(grace: .seconds(10))
        #expect(
            p.lost(.kicked(reason: "tooManyConnections", retryAfterMs: 1_000), welcomed: true, now: .zero, unit: 0)
                == .reconnect(attempt: 1, delay: .milliseconds(1_000)))
    }

    @Test func aLongerBackoffThanRetryAfterIsKept() {
        var p = ReconnectPlanner(backoff: Backoff(base: .seconds(4), cap: .seconds(8)), grace: .seconds(60))
        #expect(
            p.lost(.kicked(reason: "shutdown", retryAfterMs: 1_000), welcomed: true, now: .zero, unit: 0.75)
                == .reconnect(attempt: 1, delay: .seconds(3)))
    }

    @Test func shutdownHoldsTheSessionAtLeastThirtySecondsEvenWithGraceZero() {
        var p = planner(grace: .zero)
        #expect(
            p.lost(.kicked(reason: "shutdown", retryAfterMs: 1_000), welcomed: true, now: .zero, unit: 0)
                == .reconnect(attempt: 1, delay: .seconds(1)))
        #expect(p.windowEnd == .seconds(30))
        #expect(
            p.lost(.transport("refused"), welcomed: false, now: .seconds(29), unit: 0)
                == .reconnect(attempt: 2, delay: .zero))
        #expect(p.lost(.transport("refused"), welcomed: false, now: .seconds(30), unit: 0) == .end(.graceExpired))
    }

    @Test func goingAwayCloseIsAShutdown() {
        var p = planner(grace: .zero)
        #expect(
            p.lost(.closed(code: 1001, reason: ""), welcomed: true, now: .zero, unit: 0)
                == .reconnect(attempt: 1, delay: .zero))
    }

    @Test func aRetryAfterPastTheWindowEnds() {
        var p = planner(grace: .seconds(40))
        _ = p.lost(.transport("x"), welcomed: true, now: .zero, unit: 0)
        #expect(
            p.lost(.kicked(reason: "shutdown", retryAfterMs: 60_000), welcomed: false, now: .seconds(1), unit: 0)
                == .end(.graceExpired))
    }

    @Test func storeFailuresAndUnknownCodesAreRetried() {
        var p = planner()
        #expect(
            p.lost(.closed(code: 1011, reason: "store"), welcomed: false, now: .zero, unit: 0)
                == .reconnect(attempt: 1, delay: .zero))
    }
}

/// `moved` (a cluster node that does not serve clients names the one that does) is followed at once and is
/// not a loss, up to a few in a row.
@Suite struct ReconnectPlannerMovedTests {
    static let connect = ServerMessage.Connect(
        websocket: "ws://b:1/v1/connect", tcp: nil, http: "http://b:1/v1/heartbeat")

    func planner() -> ReconnectPlanner {
        ReconnectPlanner(backoff: Backoff(base: .milliseconds(100), cap: .seconds(1)), grace: .seconds(10))
    }

    @Test func movedIsFollowedAtOnceWithoutAnAttemptOrAWindow() {
        var p = planner()
        #expect(p.lost(.moved(Self.connect), welcomed: false, now: .seconds(1), unit: 0.5) == .follow)
        #expect(p.attempt == 0)
        #expect(p.windowEnd == nil)
        // The next real loss is the first attempt, with the whole window from its own time.
        #expect(
            p.lost(.transport("eof"), welcomed: false, now: .seconds(5), unit: 0.999)
                == .reconnect(attempt: 1, delay: .milliseconds(99)))
        #expect(p.windowEnd == .seconds(15))
    }

    @Test func moreThanThreeMovesInARowWaitLikeALossUntilAWelcome() {
        var p = planner()
        for _ in 0..<ReconnectPlanner.maxImmediateMoves {
            #expect(p.lost(.moved(Self.connect), welcomed: false, now: .seconds(1), unit: 0.5) == .follow)
        }
        #expect(
            p.lost(.moved(Self.connect), welcomed: false, now: .seconds(1), unit: 0.5)
                == .reconnect(attempt: 1, delay: .milliseconds(50)))
        p.welcomed(grace: nil)
        #expect(p.moves == 0)
        #expect(p.lost(.moved(Self.connect), welcomed: false, now: .seconds(2), unit: 0.5) == .follow)
    }

    @Test func aMovedKickOrCloseWithoutAConnectIsAPlainLoss() {
        var p = planner()
        #expect(
            p.lost(.kicked(reason: "moved", retryAfterMs: nil), welcomed: false, now: .zero, unit: 0)
                == .reconnect(attempt: 1, delay: .zero))
        #expect(
            p.lost(.closed(code: 4009, reason: "moved"), welcomed: false, now: .zero, unit: 0)
                == .reconnect(attempt: 2, delay: .zero))
    }

    @Test func anUnreachableNodeIsATransientLoss() {
        var p = planner()
        #expect(
            p.lost(.unreachable("refused"), welcomed: true, now: .zero, unit: 0) == .reconnect(attempt: 1, delay: .zero)
        )
    }
}
