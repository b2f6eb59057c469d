/// One entry of a session's history: a transition and its cause.
public struct HistoryEntry: Sendable, Hashable, Codable {
    /// When (Unix ms).
    public var at: Millis
    /// The event that recorded the transition.
    public var type: EventType
    /// The state after the transition.
    public var state: SessionState
    /// The epoch after the transition.
    public var epoch: UInt64
    /// The disconnect cause, if any.
    public var cause: DisconnectCause?
    /// The end reason, if any.
    public var reason: EndReason?

    /// Creates a history entry.
    public init(
        at: Millis, type: EventType, state: SessionState, epoch: UInt64, cause: DisconnectCause? = nil,
        reason: EndReason? = nil
    ) {
        self.at = at
        self.type = type
        self.state = state
        self.epoch = epoch
        self.cause = cause
        self.reason = reason
    }
}

/// Free-form fields the backend attaches to a session at CreateSession; stored, never interpreted.
public struct SessionMetadata: Sendable, Hashable, Codable {
    /// The user's IP address as the backend saw it.
    public var userIp: String?
    /// CAR's `ClientSession`.
    public var clientSession: String?
    /// CAR's `RunMode`.
    public var runMode: String?
    /// Opaque parameters (JSON text).
    public var parameters: String?

    /// Creates metadata.
    public init(userIp: String? = nil, clientSession: String? = nil, runMode: String? = nil, parameters: String? = nil)
    {
        self.userIp = userIp
        self.clientSession = clientSession
        self.runMode = runMode
        self.parameters = parameters
    }
}

/// The lease of one concurrency by one user in one project; it survives reconnects.
public struct Session: Sendable, Hashable, Codable {
    /// The session's id.
    public var id: SessionID
    /// The project.
    public var projectId: ProjectID
    /// The user.
    public var userId: UserID
    /// The concurrency it holds.
    public var concurrencyId: ConcurrencyID
    /// Counts CreateSession calls and resumes; a client of an older epoch is fenced off.
    public var epoch: UInt64
    /// The current state.
    public var state: SessionState
    /// Why it ended, once `ended`.
    public var endReason: EndReason?
    /// Why the last connection was lost, while in `grace`.
    public var lastCause: DisconnectCause?
    /// The absolute deadline of the current state (connect, heartbeat, suspension or grace), Unix ms.
    public var deadlineAt: Millis?
    /// When CreateSession made it.
    public var createdAt: Millis
    /// When it was last changed.
    public var updatedAt: Millis
    /// When it ended.
    public var endedAt: Millis?
    /// The last inbound frame of the current connection (not persisted on heartbeats).
    public var lastHeartbeatAt: Millis?
    /// The current connection, if one is attached.
    public var connection: ConnectionID?
    /// The transport of the current or last connection.
    public var transport: Transport?
    /// Whether a client ever connected.
    public var everConnected: Bool
    /// SHA-256 (hex) of the current single-use resume token, set by the shell.
    public var resumeTokenHash: String?
    /// SHA-256 (hex) of the resume token the current one replaced. A client whose `welcome` was lost still
    /// holds it, so it is accepted once more until ``previousResumeTokenUntil`` (docs/PROTOCOL.md "Resume").
    public var previousResumeTokenHash: String?
    /// Until when (Unix ms) ``previousResumeTokenHash`` is accepted.
    public var previousResumeTokenUntil: Millis?
    /// The last `sessionSeq` given to one of its events.
    public var seq: UInt64
    /// Backend-supplied fields.
    public var metadata: SessionMetadata
    /// The most recent transitions, oldest first (at most `BrokerConfiguration.historyLimit`).
    public var history: [HistoryEntry]

    /// Creates a session record.
    public init(
        id: SessionID, projectId: ProjectID, userId: UserID, concurrencyId: ConcurrencyID, epoch: UInt64,
        state: SessionState, createdAt: Millis, metadata: SessionMetadata = SessionMetadata()
    ) {
        self.id = id
        self.projectId = projectId
        self.userId = userId
        self.concurrencyId = concurrencyId
        self.epoch = epoch
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.everConnected = false
        self.seq = 0
        self.metadata = metadata
        self.history = []
    }
}
