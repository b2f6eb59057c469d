/// A pool of concurrency plus its policy (CAR's ApplicationProject).
public struct Project: Sendable, Hashable, Codable {
    /// The backend's id of the project.
    public var id: ProjectID
    /// A name for people.
    public var name: String
    /// Capacity and timing rules.
    public var policy: Policy
    /// When the project was created (Unix ms).
    public var createdAt: Millis
    /// When the project was last changed (Unix ms).
    public var updatedAt: Millis

    /// Creates a project record.
    public init(id: ProjectID, name: String, policy: Policy, createdAt: Millis, updatedAt: Millis) {
        self.id = id
        self.name = name
        self.policy = policy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A change to a project: `nil` fields stay as they are.
public struct ProjectPatch: Sendable, Hashable {
    /// How the webhook changes.
    public enum WebhookChange: Sendable, Hashable {
        /// Sets or replaces the webhook.
        case set(Webhook)
        /// Removes the webhook.
        case remove
    }

    /// New name.
    public var name: String?
    /// New capacity; shrinking never evicts a live session.
    public var capacity: Int?
    /// New heartbeat interval.
    public var heartbeatIntervalMs: Millis?
    /// New heartbeat timeout.
    public var heartbeatTimeoutMs: Millis?
    /// New grace window.
    public var reconnectGraceMs: Millis?
    /// New reservation time to live.
    public var reservationTtlMs: Millis?
    /// New connect timeout.
    public var connectTimeoutMs: Millis?
    /// New longest suspension.
    public var maxSuspendMs: Millis?
    /// Webhook change.
    public var webhook: WebhookChange?
    /// New queue settings (each field `nil`: unchanged).
    public var queue: QueuePatch?
    /// New allowed origins: `nil` unchanged, `.some(nil)` any origin, `.some(list)` only those.
    public var allowedOrigins: [String]??

    /// Creates a patch; every field defaults to "unchanged".
    public init(
        name: String? = nil, capacity: Int? = nil, heartbeatIntervalMs: Millis? = nil,
        heartbeatTimeoutMs: Millis? = nil, reconnectGraceMs: Millis? = nil, reservationTtlMs: Millis? = nil,
        connectTimeoutMs: Millis? = nil, maxSuspendMs: Millis? = nil, webhook: WebhookChange? = nil,
        queue: QueuePatch? = nil, allowedOrigins: [String]?? = nil
    ) {
        self.name = name
        self.capacity = capacity
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.heartbeatTimeoutMs = heartbeatTimeoutMs
        self.reconnectGraceMs = reconnectGraceMs
        self.reservationTtlMs = reservationTtlMs
        self.connectTimeoutMs = connectTimeoutMs
        self.maxSuspendMs = maxSuspendMs
        self.webhook = webhook
        self.queue = queue
        self.allowedOrigins = allowedOrigins
    }

    /// Applies the patch at `now` to a project and its policy, without validating. A new webhook secret keeps
    /// the old one signing for the overlap (``Webhook/replaced(by:at:)``).
    func applied(to project: Project, at now: Millis) -> Project {
        var p = project
        if let name { p.name = name }
        if let capacity { p.policy.capacity = capacity }
        if let heartbeatIntervalMs { p.policy.heartbeat.intervalMs = heartbeatIntervalMs }
        if let heartbeatTimeoutMs { p.policy.heartbeat.timeoutMs = heartbeatTimeoutMs }
        if let reconnectGraceMs { p.policy.reconnectGraceMs = reconnectGraceMs }
        if let reservationTtlMs { p.policy.reservationTtlMs = reservationTtlMs }
        if let connectTimeoutMs { p.policy.connectTimeoutMs = connectTimeoutMs }
        if let maxSuspendMs { p.policy.maxSuspendMs = maxSuspendMs }
        if let queue {
            if let enabled = queue.enabled { p.policy.queue.enabled = enabled }
            if let offerTtlMs = queue.offerTtlMs { p.policy.queue.offerTtlMs = offerTtlMs }
            if let maxLength = queue.maxLength { p.policy.queue.maxLength = maxLength }
            if let clientTimeoutMs = queue.clientTimeoutMs { p.policy.queue.clientTimeoutMs = clientTimeoutMs }
        }
        if let allowedOrigins { p.policy.allowedOrigins = allowedOrigins }
        switch webhook {
        case .set(let hook): p.policy.webhook = project.policy.webhook?.replaced(by: hook, at: now) ?? hook
        case .remove: p.policy.webhook = nil
        case nil: break
        }
        return p
    }
}

/// A change to a project's queue settings: `nil` fields stay as they are.
public struct QueuePatch: Sendable, Hashable {
    /// Turns the queue on or off (tickets already waiting stay and still get offers).
    public var enabled: Bool?
    /// New offer time to live.
    public var offerTtlMs: Millis?
    /// New longest queue.
    public var maxLength: Int?
    /// New silence allowed to a queued client.
    public var clientTimeoutMs: Millis?

    /// Creates a patch.
    public init(enabled: Bool? = nil, offerTtlMs: Millis? = nil, maxLength: Int? = nil, clientTimeoutMs: Millis? = nil)
    {
        self.enabled = enabled
        self.offerTtlMs = offerTtlMs
        self.maxLength = maxLength
        self.clientTimeoutMs = clientTimeoutMs
    }
}
