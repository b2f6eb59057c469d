extension TetherAPI {
    /// One change made through the backend API (`GET /v1/audit`): never a secret.
    public struct AuditRecord: Codable, Sendable, Hashable {
        /// The record's position in the trail; `after` takes it.
        public var id: Int64
        /// When the change was made (Unix epoch ms).
        public var at: Int64
        /// The id of the API key that made it.
        public var keyId: String
        /// What was done: `project.create`, `project.update`, `project.delete`, `session.destroy`,
        /// `queue.cancel`, `key.create`, `key.revoke`.
        public var action: String
        /// What it was done to: a project id, a session id, `projectId/userId`, a key id.
        public var target: String
        /// The request's `X-Request-Id`.
        public var requestId: String
        /// The address the request came from.
        public var sourceIp: String

        /// Creates a record.
        public init(
            id: Int64, at: Int64, keyId: String, action: String, target: String, requestId: String, sourceIp: String
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

    /// `GET /v1/audit`'s answer: records after `after`, oldest first.
    public struct AuditList: Codable, Sendable, Hashable {
        /// The records.
        public var records: [AuditRecord]
        /// The `after` of the next call: the last record's id, or `after` when there was none.
        public var nextCursor: Int64

        /// Creates the list.
        public init(records: [AuditRecord], nextCursor: Int64) {
            self.records = records
            self.nextCursor = nextCursor
        }
    }
}
