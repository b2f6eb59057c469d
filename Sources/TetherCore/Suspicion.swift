/// When a connected session is *suspect*: nothing has been heard from its client for more than one heartbeat
/// interval, although a client heartbeats every interval. The server has by then probed it with a ping (a
/// client quiet for half an interval is pinged, and pinged again every interval while unanswered), and any
/// frame from it clears the suspicion; it is convicted only at the heartbeat timeout (at least two intervals),
/// after at least two probes. Suspicion is shown (a session's detail, the dashboard), never acted on.
public enum Suspicion {
    /// Whether a session last heard from at `lastHeardAt` is suspect at `now`.
    public static func isSuspect(lastHeardAt: Millis, intervalMs: Millis, at now: Millis) -> Bool {
        now - lastHeardAt > intervalMs
    }
}
