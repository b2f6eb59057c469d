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
///
/// The four fields live in a box, absent when all are nil (most sessions): a `Session` value keeps 8 bytes
/// for them instead of 64, and the broker's session table holds 1.3 to 2.7 values per session.
public struct SessionMetadata: Sendable, Hashable, Codable {
    private struct Fields: Sendable, Hashable {
        var userIp: String?
        var clientSession: String?
        var runMode: String?
        var parameters: String?
    }

    private var stored = OutOfLine<Fields>()

    private var fields: Fields {
        get { stored.value ?? Fields() }
        set { stored.value = newValue == Fields() ? nil : newValue }
    }

    /// The user's IP address as the backend saw it.
    public var userIp: String? {
        get { fields.userIp }
        set { fields.userIp = newValue }
    }
    /// CAR's `ClientSession`.
    public var clientSession: String? {
        get { fields.clientSession }
        set { fields.clientSession = newValue }
    }
    /// CAR's `RunMode`.
    public var runMode: String? {
        get { fields.runMode }
        set { fields.runMode = newValue }
    }
    /// Opaque parameters (JSON text).
    public var parameters: String? {
        get { fields.parameters }
        set { fields.parameters = newValue }
    }

    /// Creates metadata.
    public init(userIp: String? = nil, clientSession: String? = nil, runMode: String? = nil, parameters: String? = nil)
    {
        fields = Fields(userIp: userIp, clientSession: clientSession, runMode: runMode, parameters: parameters)
    }

    private enum CodingKeys: String, CodingKey {
        case userIp, clientSession, runMode, parameters
    }

    /// Decodes the four fields, each optional.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            userIp: try c.decodeIfPresent(String.self, forKey: .userIp),
            clientSession: try c.decodeIfPresent(String.self, forKey: .clientSession),
            runMode: try c.decodeIfPresent(String.self, forKey: .runMode),
            parameters: try c.decodeIfPresent(String.self, forKey: .parameters))
    }

    /// Encodes the fields that are set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(userIp, forKey: .userIp)
        try c.encodeIfPresent(clientSession, forKey: .clientSession)
        try c.encodeIfPresent(runMode, forKey: .runMode)
        try c.encodeIfPresent(parameters, forKey: .parameters)
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
