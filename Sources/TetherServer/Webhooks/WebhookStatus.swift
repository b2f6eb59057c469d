import TetherCore

/// The delivery state of one project's webhook (`GET /v1/projects/{projectId}/webhook`).
struct WebhookStatus: Sendable, Codable, Hashable {
    /// `idle` (nothing pending), `delivering`, or `retrying` (the head event failed and waits for its retry).
    var state: String = "idle"
    /// Where events go.
    var url: String
    /// The cursor of the last event the receiver acknowledged (a 2xx).
    var deliveredCursor: UInt64 = 0
    /// Events of the project not yet acknowledged (counted up to 1000; `pendingAtLeast` when capped).
    var pending: Int = 0
    /// Whether ``pending`` is a lower bound.
    var pendingAtLeast: Bool = false
    /// The cursor of the event being delivered, if any.
    var headCursor: UInt64?
    /// Attempts made for the head event so far.
    var attempts: Int = 0
    /// What the last failed attempt got (`HTTP 500`, a connection error, a timeout).
    var lastError: String?
    /// When the last attempt was made (Unix ms).
    var lastAttemptAt: Millis?
    /// When the next retry is due (Unix ms), while retrying.
    var nextAttemptAt: Millis?
    /// Events acknowledged since the server started.
    var delivered: UInt64 = 0
    /// Failed attempts since the server started.
    var failures: UInt64 = 0
}
