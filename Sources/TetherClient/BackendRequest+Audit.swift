import TetherProtocol

extension TetherBackend {
    /// One change made through the backend API.
    public typealias AuditRecord = TetherAPI.AuditRecord
    /// A page of the audit trail.
    public typealias AuditList = TetherAPI.AuditList
}

extension BackendRequest where Response == TetherBackend.AuditList {
    /// `GET /v1/audit?after=&limit=`: the audit trail after record `after`, oldest first (admin keys only).
    public static func audit(after: Int64 = 0, limit: Int = 100) -> Self {
        Self(
            method: "GET", path: "/v1/audit",
            query: [QueryItem(name: "after", value: String(after)), QueryItem(name: "limit", value: String(limit))])
    }
}
