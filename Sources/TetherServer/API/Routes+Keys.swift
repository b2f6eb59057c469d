import Hummingbird
import TetherCore
import TetherProtocol
import TetherStore

extension TetherAPI.Key: ResponseEncodable {}
extension TetherAPI.CreatedKey: ResponseEncodable {}
extension TetherAPI.KeyList: ResponseEncodable {}

extension TetherAPI.Key {
    /// A stored key as listed (never its hash).
    init(_ entry: KeyEntry) {
        self.init(
            keyId: entry.keyId, name: entry.name, projects: entry.projects, createdAt: entry.createdAt,
            lastUsedAt: entry.lastUsedAt, expiresAt: entry.expiresAt, secretId: entry.secretId)
    }
}

extension BackendAPI {
    /// `POST /v1/keys`, `GET /v1/keys`, `DELETE /v1/keys/{keyId}`: admin keys only.
    func addKeyRoutes(to router: RouterGroup<TetherRequestContext>) {
        let keys = self.keys
        let service = self.service
        let store = self.store
        let time = self.time
        // A key change is saved first (KeyRing), then its audit record; answered once both are durable.
        router.post("/keys") { request, context -> EditedResponse<TetherAPI.CreatedKey> in
            try context.requireAdmin("creating a key")
            let body = try await request.decode(as: TetherAPI.CreateKeyRequest.self, context: context)
            let (entry, key) = try await keys.create(
                name: body.name, projects: body.projects, expiresInMs: body.expiresInMs, car: body.car ?? false,
                existing: { id in service.read { (try? $0.project(id)) != nil } })
            try await Self.appendAudit(to: store, context.audit(.keyCreate, entry.keyId, at: time.now()))
            return EditedResponse(
                status: .created,
                response: TetherAPI.CreatedKey(
                    keyId: entry.keyId, name: entry.name, projects: entry.projects, createdAt: entry.createdAt,
                    key: key, expiresAt: entry.expiresAt, secretId: entry.secretId, secretKey: entry.secretKey))
        }
        router.get("/keys") { _, context in
            try context.requireAdmin("listing keys")
            return TetherAPI.KeyList(keys: keys.list().map(TetherAPI.Key.init))
        }
        router.delete("/keys/:keyId") { _, context in
            try context.requireAdmin("revoking a key")
            let revoked = try await keys.revoke(try context.path("keyId"))
            try await Self.appendAudit(to: store, context.audit(.keyRevoke, revoked.keyId, at: time.now()))
            return TetherAPI.Key(revoked)
        }
    }
}
