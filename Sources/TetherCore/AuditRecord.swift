/// One change made through the backend API, as the audit trail keeps it (issue 16, item 6): who (the key's
/// id), what (`action` on `target`), when, which request, from where. Never a secret: no body, no key, no
/// webhook secret.
public struct AuditRecord: Sendable, Hashable, Codable {
    /// What was done.
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        /// CreateApplicationProject.
        case projectCreate = "project.create"
        /// ModifyApplicationProject.
        case projectUpdate = "project.update"
        /// DeleteApplicationProjects.
        case projectDelete = "project.delete"
        /// DestroySession (by id, or by project and user).
        case sessionDestroy = "session.destroy"
        /// A queue ticket cancelled by the backend.
        case queueCancel = "queue.cancel"
        /// A new API key.
        case keyCreate = "key.create"
        /// A revoked API key.
        case keyRevoke = "key.revoke"
        /// A new token signing key (the previous one retiring).
        case secretsRotate = "secrets.rotate"
    }

    /// The record's position in the trail; grows strictly (0 until the store assigns it).
    public var id: Int64
    /// When the change was made (Unix ms).
    public var at: Millis
    /// The id of the API key that made it.
    public var keyId: String
    /// What was done.
    public var action: Action
    /// What it was done to: a project id, a session id, `projectId/userId`, a key id.
    public var target: String
    /// The request's `X-Request-Id`.
    public var requestId: String
    /// The address the request came from (the peer of its connection).
    public var sourceIp: String

    /// Creates a record; the store assigns ``id``.
    public init(
        id: Int64 = 0, at: Millis, keyId: String, action: Action, target: String, requestId: String, sourceIp: String
    ) {
        self.id = id
        self.at = at
        self.keyId = keyId
        self.action = action
        self.target = target
        self.requestId = requestId
        self.sourceIp = sourceIp
    }
}
