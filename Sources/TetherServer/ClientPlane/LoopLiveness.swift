import NIOCore
import Synchronization
import TetherCore

/// A connection a ``LoopLiveness`` watches.
protocol LivenessWatched: AnyObject {
    /// Its connection stayed silent past its deadline, noticed `latenessMs` after it (called on the loop).
    func livenessExpired(latenessMs: Millis)
}

/// The heartbeat deadlines of the connections of one event loop (issue 13, item 2): a heartbeat re-arms its
/// connection's deadline here, on its own loop, without the broker's lock; only an expiry crosses to the
/// broker (``Command/heartbeatTimeout(_:connection:latenessMs:)``).
///
/// Confined to its event loop. One timer at the next deadline: a re-arm only moves a deadline later, so the
/// timer may fire early and plan again, never late. NIO runs a tick's ready I/O before its due tasks, so a
/// loop that fell behind reads the heartbeats waiting for it before its timer can convict anyone.
final class LoopLiveness: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let time: any TimeSource
    private var wheel: DeadlineWheel<ConnectionID>
    private var members: [ConnectionID: any LivenessWatched] = [:]
    private var timer: Scheduled<Void>?
    private var timerAt: Millis?

    init(eventLoop: any EventLoop, time: any TimeSource) {
        self.eventLoop = eventLoop
        self.time = time
        self.wheel = DeadlineWheel(now: time.now())
    }

    /// How many connections it watches.
    var count: Int { members.count }

    /// Starts watching `connection` until `deadline`.
    func watch(_ connection: ConnectionID, _ member: any LivenessWatched, until deadline: Millis) {
        eventLoop.preconditionInEventLoop()
        members[connection] = member
        wheel.arm(connection, at: deadline)
        plan()
    }

    /// The connection was heard from: its deadline moves to `deadline`.
    func seen(_ connection: ConnectionID, until deadline: Millis) {
        guard members[connection] != nil else { return }
        wheel.arm(connection, at: deadline)
    }

    /// Stops watching `connection`.
    func unwatch(_ connection: ConnectionID) {
        guard members.removeValue(forKey: connection) != nil else { return }
        _ = wheel.cancel(connection)
    }

    /// Expires what is due (the timer's job; tests may call it).
    func fire() {
        timer = nil
        timerAt = nil
        var expired: [DeadlineWheel<ConnectionID>.Expiry] = []
        wheel.advance(to: max(time.now(), wheel.now), into: &expired)
        for expiry in expired {
            members.removeValue(forKey: expiry.key)?.livenessExpired(latenessMs: expiry.lateness)
        }
        plan()
    }

    private func plan() {
        guard let next = wheel.nextWakeup else { return }
        if let at = timerAt, at <= next { return }
        timer?.cancel()
        timerAt = next
        timer = eventLoop.scheduleTask(in: .milliseconds(max(0, next - time.now()))) { [self] in fire() }
    }
}
