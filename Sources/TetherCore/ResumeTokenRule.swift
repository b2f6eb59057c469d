/// Which resume tokens a session accepts: its current one, and, for a short window after it was spent, the
/// one before (the client that spent it may never have received the `welcome` that carried the next one).
/// Anything older is refused.
public enum ResumeTokenRule {
    /// The judgement of a presented token.
    public enum Verdict: Sendable, Hashable {
        /// The current token: a normal resume.
        case current
        /// The previous token within its window: the last welcome may have been lost, answer again.
        case retry
        /// Neither: `badToken`.
        case refused
    }

    /// Judges the token whose hash is `hash` against the session's `current` and `previous` hashes.
    public static func judge(
        _ hash: String, current: String?, previous: String?, previousUntil: Millis?, now: Millis
    ) -> Verdict {
        if hash == current { return .current }
        if hash == previous, let previousUntil, now <= previousUntil { return .retry }
        return .refused
    }
}
