/// The states of a session (API.md "Session states").
public enum SessionState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Created by the backend; no client connected yet.
    case created
    /// A client connection is live and heartbeating.
    case connected
    /// The client declared it goes to the background for a while.
    case suspended
    /// The connection was lost; the concurrency is held for the reconnect grace window.
    case grace
    /// Over; `Session.endReason` says why.
    case ended

    /// Whether the session still holds its concurrency.
    public var isLive: Bool { self != .ended }
}

/// Why a session ended.
public enum EndReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// DestroySession (backend or admin).
    case destroyed
    /// The client said `bye`.
    case left
    /// The grace window passed without a reconnect.
    case graceExpired
    /// The heartbeat timed out and the project's grace is 0.
    case heartbeatTimeout
    /// No client connected within `connectTimeoutMs`.
    case neverConnected
    /// The project was deleted.
    case projectDeleted
}

/// Why a connection was lost (`session.disconnected`'s `data.cause`).
public enum DisconnectCause: String, Sendable, Hashable, Codable, CaseIterable {
    /// The peer closed the connection (read of 0, FIN, close frame).
    case closed
    /// The transport failed (reset, write error, protocol violation).
    case error
    /// No heartbeat within `heartbeat.timeoutMs`, or a declared suspension ran out.
    case heartbeatTimeout
    /// A newer epoch or connection took over.
    case replaced
    /// The server shut down or restarted.
    case shutdown
    /// The cluster node that held the connection died, froze or was cut off from the database, and another
    /// node took its sessions over.
    case nodeLost
}

/// Why the server closes a client connection (`kick`'s `reason`).
public enum KickReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// A newer epoch or connection of the same session took over.
    case replaced
    /// The backend destroyed the session.
    case destroyed
    /// The connection was declared lost (heartbeat timeout) or the session ran out of time.
    case expired
    /// The client said `bye`.
    case left
    /// The server is shutting down; reconnect after `retryAfterMs`.
    case shutdown
    /// The token was refused.
    case badToken
    /// The server admits hellos at a bounded rate and this one came over it: try again after `retryAfterMs`
    /// (the session, if any, is untouched).
    case busy
    /// This cluster node does not serve clients now: connect to the node in the kick's `connect`.
    case moved
    /// The page's `Origin` is not one of the project's `allowedOrigins` (the session, if any, is untouched).
    case originNotAllowed
}

/// The transport a client connection uses.
public enum Transport: String, Sendable, Hashable, Codable, CaseIterable {
    /// WebSocket text messages on the client port.
    case websocket
    /// Length-prefixed frames on the TCP port.
    case tcp
    /// `POST /v1/heartbeat` on the client port.
    case http
}

/// Why a client declares a suspension.
public enum SuspendReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The app or tab went to the background.
    case background
    /// The page is being hidden or unloaded.
    case pagehide
    /// The network is changing.
    case networkChange
}
