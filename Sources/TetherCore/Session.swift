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
///
/// Kept small because the broker holds one per live session in a hash table that is up to ~2.7 times its
/// count (docs/PERFORMANCE.md, "Memory per idle session"): optional times and the connection are
/// `CompactOptional`s (8 bytes, where an optional takes 9 and 7 of padding), and the fields a live session rarely
/// has (its end, the resume token it replaced) live out of line. 168 bytes, from 232.
public struct Session: Sendable, Hashable, Codable {
    private struct Cold: Sendable, Hashable {
        var endReason: EndReason?
        var endedAt: Millis?
        var previousResumeTokenHash: String?
        var previousResumeTokenUntil: Millis?
    }

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
    /// When CreateSession made it.
    public var createdAt: Millis
    /// When it was last changed.
    public var updatedAt: Millis
    private var storedDeadlineAt = CompactOptional<Millis>()
    private var storedLastHeartbeatAt = CompactOptional<Millis>()
    /// Connection ids count up from 1, never to `ConnectionID.max`.
    private var storedConnection = CompactOptional<ConnectionID>()
    /// The last `sessionSeq` given to one of its events.
    public var seq: UInt64
    /// SHA-256 (hex) of the current single-use resume token, set by the shell.
    public var resumeTokenHash: String?
    /// Backend-supplied fields.
    public var metadata: SessionMetadata
    /// The most recent transitions, oldest first (at most `BrokerConfiguration.historyLimit`).
    public var history: [HistoryEntry]
    private var cold = OutOfLine<Cold>()
    /// The rare fields; all unset again, the box is dropped (as `SessionMetadata` does).
    private var coldFields: Cold {
        get { cold.value ?? Cold() }
        set { cold.value = newValue == Cold() ? nil : newValue }
    }
    /// The current state.
    public var state: SessionState
    /// Why the last connection was lost, while in `grace`.
    public var lastCause: DisconnectCause?
    /// The transport of the current or last connection.
    public var transport: Transport?
    /// Whether a client ever connected.
    public var everConnected: Bool

    /// The absolute deadline of the current state (connect, heartbeat, suspension or grace), Unix ms.
    public var deadlineAt: Millis? {
        get { storedDeadlineAt.value }
        set { storedDeadlineAt.value = newValue }
    }

    /// The last inbound frame of the current connection (not persisted on heartbeats).
    public var lastHeartbeatAt: Millis? {
        get { storedLastHeartbeatAt.value }
        set { storedLastHeartbeatAt.value = newValue }
    }

    /// The current connection, if one is attached.
    public var connection: ConnectionID? {
        get { storedConnection.value }
        set { storedConnection.value = newValue }
    }

    /// Why it ended, once `ended`.
    public var endReason: EndReason? {
        get { cold.value?.endReason }
        set { coldFields.endReason = newValue }
    }

    /// When it ended.
    public var endedAt: Millis? {
        get { cold.value?.endedAt }
        set { coldFields.endedAt = newValue }
    }

    /// SHA-256 (hex) of the resume token the current one replaced. A client whose `welcome` was lost still
    /// holds it, so it is accepted once more until ``previousResumeTokenUntil`` (docs/PROTOCOL.md "Resume").
    public var previousResumeTokenHash: String? {
        get { cold.value?.previousResumeTokenHash }
        set { coldFields.previousResumeTokenHash = newValue }
    }

    /// Until when (Unix ms) ``previousResumeTokenHash`` is accepted.
    public var previousResumeTokenUntil: Millis? {
        get { cold.value?.previousResumeTokenUntil }
        set { coldFields.previousResumeTokenUntil = newValue }
    }

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

    private enum CodingKeys: String, CodingKey {
        case id, projectId, userId, concurrencyId, epoch, state, endReason, lastCause, deadlineAt, createdAt
        case updatedAt, endedAt, lastHeartbeatAt, connection, transport, everConnected, resumeTokenHash
        case previousResumeTokenHash, previousResumeTokenUntil, seq, metadata, history
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(SessionID.self, forKey: .id), projectId: try c.decode(ProjectID.self, forKey: .projectId),
            userId: try c.decode(UserID.self, forKey: .userId),
            concurrencyId: try c.decode(ConcurrencyID.self, forKey: .concurrencyId),
            epoch: try c.decode(UInt64.self, forKey: .epoch), state: try c.decode(SessionState.self, forKey: .state),
            createdAt: try c.decode(Millis.self, forKey: .createdAt),
            metadata: try c.decode(SessionMetadata.self, forKey: .metadata))
        endReason = try c.decodeIfPresent(EndReason.self, forKey: .endReason)
        lastCause = try c.decodeIfPresent(DisconnectCause.self, forKey: .lastCause)
        deadlineAt = try c.decodeIfPresent(Millis.self, forKey: .deadlineAt)
        updatedAt = try c.decode(Millis.self, forKey: .updatedAt)
        endedAt = try c.decodeIfPresent(Millis.self, forKey: .endedAt)
        lastHeartbeatAt = try c.decodeIfPresent(Millis.self, forKey: .lastHeartbeatAt)
        connection = try c.decodeIfPresent(ConnectionID.self, forKey: .connection)
        transport = try c.decodeIfPresent(Transport.self, forKey: .transport)
        everConnected = try c.decode(Bool.self, forKey: .everConnected)
        resumeTokenHash = try c.decodeIfPresent(String.self, forKey: .resumeTokenHash)
        previousResumeTokenHash = try c.decodeIfPresent(String.self, forKey: .previousResumeTokenHash)
        previousResumeTokenUntil = try c.decodeIfPresent(Millis.self, forKey: .previousResumeTokenUntil)
        seq = try c.decode(UInt64.self, forKey: .seq)
        history = try c.decode([HistoryEntry].self, forKey: .history)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(projectId, forKey: .projectId)
        try c.encode(userId, forKey: .userId)
        try c.encode(concurrencyId, forKey: .concurrencyId)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(endReason, forKey: .endReason)
        try c.encodeIfPresent(lastCause, forKey: .lastCause)
        try c.encodeIfPresent(deadlineAt, forKey: .deadlineAt)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encodeIfPresent(endedAt, forKey: .endedAt)
        try c.encodeIfPresent(lastHeartbeatAt, forKey: .lastHeartbeatAt)
        try c.encodeIfPresent(connection, forKey: .connection)
        try c.encodeIfPresent(transport, forKey: .transport)
        try c.encode(everConnected, forKey: .everConnected)
        try c.encodeIfPresent(resumeTokenHash, forKey: .resumeTokenHash)
        try c.encodeIfPresent(previousResumeTokenHash, forKey: .previousResumeTokenHash)
        try c.encodeIfPresent(previousResumeTokenUntil, forKey: .previousResumeTokenUntil)
        try c.encode(seq, forKey: .seq)
        try c.encode(metadata, forKey: .metadata)
        try c.encode(history, forKey: .history)
    }
}
