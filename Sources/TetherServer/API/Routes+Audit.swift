import Hummingbird
import TetherCore
import TetherProtocol
import TetherStore

extension TetherAPI.AuditList: ResponseEncodable {}

extension TetherAPI.AuditRecord {
    /// A stored record as the API shows it.
    init(_ r: AuditRecord) {
        self.init(
            id: r.id, at: r.at, keyId: r.keyId, action: r.action.rawValue, target: r.target, requestId: r.requestId,
            sourceIp: r.sourceIp)
    }
}

extension BackendAPI {
    /// `GET /v1/audit?after=&limit=`: the audit trail, admin keys only.
    func addAuditRoutes(to router: RouterGroup<TetherRequestContext>) {
        let store = self.store
        router.get("/audit") { request, context in
            try context.requireAdmin("reading the audit trail")
            let query = request.uri.queryParameters
            var after: Int64 = 0
            if let raw = query["after"] {
                guard let value = Int64(raw), value >= 0 else {
                    throw APIError.invalidValue("after", "must be a record id (an integer of 0 or more)")
                }
                after = value
            }
            let limit = try PageLimit.parse(query)
            let records: [AuditRecord]
            do {
                records = try await store.audit(after: after, limit: limit)
            } catch {
                throw StoreUnavailable()
            }
            return TetherAPI.AuditList(
                records: records.map(TetherAPI.AuditRecord.init), nextCursor: records.last?.id ?? after)
        }
    }
}

extension BackendAPI {
    /// Writes `record` on its own commit (a change that is no broker command: keys, token keys, saved just
    /// before) and returns once it is durable; ``StoreUnavailable`` when the store failed it.
    static func appendAudit(to store: any Store, _ record: AuditRecord) async throws {
        do {
            try await store.enqueue([.audit(record)]).durable()
        } catch {
            throw StoreUnavailable()
        }
    }
}
