import NIOCore
import Testing

@testable import TetherServer

/// The deadlines of an HTTP connection, on made-up times (no clock is read).
@Suite struct HTTPExchangeClockTests {
    static func at(_ ms: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(1_000_000_000 + ms * 1_000_000)) }

    static func clock() -> HTTPExchangeClock {
        HTTPExchangeClock(now: at(0), idleTimeout: .milliseconds(1_000), readTimeout: .milliseconds(300))
    }

    @Test func aNewConnectionGetsTheIdleTimeout() {
        let clock = Self.clock()
        #expect(clock.phase == .idle)
        #expect(clock.deadline == Self.at(1_000))
        #expect(clock.expiry(now: Self.at(999)) == .later(Self.at(1_000)))
        #expect(clock.expiry(now: Self.at(1_000)) == .idle)
    }

    /// The read timeout runs from a request's first byte; a trickle of bytes or body parts never moves it.
    @Test func theReadTimeoutRunsFromTheFirstByte() {
        var clock = Self.clock()
        clock.bytesArrived(now: Self.at(500))
        #expect(clock.phase == .reading)
        #expect(clock.deadline == Self.at(800))
        clock.bytesArrived(now: Self.at(700))
        clock.head(now: Self.at(750))
        #expect(clock.deadline == Self.at(800))
        #expect(clock.expiry(now: Self.at(800)) == .readTimeout(answer: true))
    }

    /// Half a head that never completes is closed without an answer (there is no request to answer).
    @Test func halfAHeadIsClosedWithoutAnAnswer() {
        var clock = Self.clock()
        clock.bytesArrived(now: Self.at(10))
        #expect(clock.expiry(now: Self.at(310)) == .readTimeout(answer: false))
    }

    /// While the server answers there is no deadline (an event stream may last for hours); after the answer
    /// the idle timeout starts again.
    @Test func answeringHasNoDeadlineAndIdleStartsAfterTheAnswer() {
        var clock = Self.clock()
        clock.head(now: Self.at(100))
        clock.end()
        #expect(clock.phase == .answering)
        #expect(clock.deadline == nil)
        #expect(clock.expiry(now: Self.at(1_000_000)) == .none)
        clock.responseHead()
        clock.responseEnd(now: Self.at(5_000))
        #expect(clock.phase == .idle)
        #expect(clock.deadline == Self.at(6_000))
    }

    /// An answer that goes out before the request's body has all arrived leaves the read timeout running,
    /// and a 408 is no longer possible while a response is under way.
    @Test func anEarlyAnswerDoesNotStopTheReadTimeout() {
        var clock = Self.clock()
        clock.head(now: Self.at(0))
        clock.responseHead()
        #expect(clock.expiry(now: Self.at(300)) == .readTimeout(answer: false))
        clock.responseEnd(now: Self.at(100))
        #expect(clock.phase == .reading)
        #expect(clock.deadline == Self.at(300))
    }

    /// A pipelined request read while the previous one is answered gets the read timeout, but no 408 (it would
    /// be taken for the first request's answer).
    @Test func aPipelinedRequestIsNotAnswered408() {
        var clock = Self.clock()
        clock.head(now: Self.at(0))
        clock.end()
        clock.head(now: Self.at(50))
        #expect(clock.deadline == Self.at(350))
        #expect(clock.expiry(now: Self.at(350)) == .readTimeout(answer: false))
    }
}
