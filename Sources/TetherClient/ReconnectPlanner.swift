/// Decides, after each lost connection, whether and when to reconnect. Pure: time and the random draw are
/// inputs, so every rule is unit-tested without a socket.
///
/// Rules (docs/BEHAVIOUR.md "Swift SDK"):
/// * terminal losses (kick `replaced`, `destroyed`, `left`, `badToken`; `expired` before a welcome or with
///   grace 0; protocol violations) end the client;
/// * any other loss opens a reconnect window of the session's grace (at least 30 s after a `shutdown` kick or
///   close 1001, since the server holds sessions that long over a restart), measured from the first loss since
///   the last welcome; attempts wait `Backoff` delays with full jitter, never less than a `retryAfterMs`, and
///   never past the window's end; once the window is over, the client ends with `graceExpired`;
/// * a `moved` kick is followed at once, and is not a loss: no attempt is counted and no window opens, unless
///   more than ``maxImmediateMoves`` came in a row since the last welcome (nodes pointing at each other in a
///   takeover), when it waits like any other loss.
public struct ReconnectPlanner: Sendable, Hashable {
    /// What to do next.
    public enum Decision: Sendable, Hashable {
        /// Try again: attempt `attempt` (1-based) after `delay`.
        case reconnect(attempt: Int, delay: Duration)
        /// Connect at once to the node a `moved` kick named.
        case follow
        /// Stop.
        case end(TetherClientEndReason)
    }

    /// The delays.
    public var backoff: Backoff
    /// The session's grace window (updated from each welcome that says it).
    public var grace: Duration
    /// Attempts since the last welcome.
    public private(set) var attempt = 0
    /// When the current reconnect window closes (on the caller's monotonic time line).
    public private(set) var windowEnd: Duration?
    /// `moved` kicks since the last welcome.
    public private(set) var moves = 0
    /// `moved` kicks followed at once in a row; the next ones wait like a loss.
    public static let maxImmediateMoves = 3

    /// Creates a planner.
    public init(backoff: Backoff, grace: Duration) {
        self.backoff = backoff
        self.grace = grace
    }

    /// A welcome arrived: the next loss starts a fresh window and attempt count.
    public mutating func welcomed(grace: Duration?) {
        if let grace { self.grace = grace }
        attempt = 0
        windowEnd = nil
        moves = 0
    }

    /// A connection was lost at `now` (monotonic); `welcomed`: it had been welcomed; `unit`: a random draw in
    /// `0 ..< 1` for the jitter.
    public mutating func lost(_ loss: LinkLoss, welcomed: Bool, now: Duration, unit: Double) -> Decision {
        var kind = loss.kind(welcomed: welcomed, grace: grace)
        if case .moved = kind {
            moves += 1
            if moves <= Self.maxImmediateMoves { return .follow }
            kind = .transient(notBefore: nil, graceFloor: nil)
        }
        switch kind {
        case .terminal(let reason):
            return .end(reason)
        case .moved:
            return .follow
        case .transient(let notBefore, let graceFloor):
            var window = grace
            if let graceFloor { window = max(window, graceFloor) }
            var end = windowEnd ?? now + window
            // A shutdown kick extends a window already open (the server holds sessions that long from now).
            if graceFloor != nil { end = max(end, now + window) }
            windowEnd = end
            guard now < end else { return .end(.graceExpired) }
            attempt += 1
            var delay = min(backoff.delay(attempt: attempt, unit: unit), end - now)
            if let notBefore {
                guard now + notBefore < end else { return .end(.graceExpired) }
                delay = max(delay, notBefore)
            }
            return .reconnect(attempt: attempt, delay: delay)
        }
    }
}
