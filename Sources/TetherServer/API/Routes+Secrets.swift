import Hummingbird
import TetherCore
import TetherProtocol
import TetherStore

extension TetherAPI.SigningKeyList: ResponseEncodable {}

extension TetherAPI.SigningKeyList {
    /// The keys as listed (never a secret).
    init(_ keys: SigningKeys) {
        let signing = keys.signing.kid
        self.init(
            keys: keys.keys.map { key in
                TetherAPI.SigningKey(
                    kid: key.kid, createdAt: key.createdAt, retiresAt: key.retiresAt, signing: key.kid == signing)
            })
    }
}

extension BackendAPI {
    /// The longest a client or queue token lives: how long a rotated key keeps verifying by default.
    static var longestTokenLifetimeMs: Millis { max(tokenLifetimeMs, queueTokenLifetimeMs) }

    /// `GET /v1/secrets` and `POST /v1/secrets/rotate`: the token signing keys (admin keys only).
    func addSecretRoutes(to router: RouterGroup<TetherRequestContext>) {
        let keyring = signer.keyring
        let store = self.store
        let time = self.time
        router.get("/secrets") { _, context in
            try context.requireAdmin("listing the token signing keys")
            return TetherAPI.SigningKeyList(keyring.keys)
        }
        router.post("/secrets/rotate") { request, context in
            try context.requireAdmin("rotating the token signing keys")
            // No body at all means every default.
            var request = request
            let bytes = try await request.collectBody(upTo: context.maxUploadSize)
            let body =
                bytes.readableBytes == 0
                ? TetherAPI.RotateSecretsRequest()
                : try await request.decode(as: TetherAPI.RotateSecretsRequest.self, context: context)
            let longest = Self.longestTokenLifetimeMs
            let retire = body.retireOldAfterMs ?? longest
            guard (0...longest).contains(retire) else {
                throw APIError.invalidValue(
                    "retireOldAfterMs", "must be between 0 and \(longest) (the longest a token lives)")
            }
            let keys: SigningKeys
            do {
                keys = try await keyring.rotate(store: store, time: time, retireAfterMs: retire)
            } catch {
                throw StoreUnavailable()
            }
            try await Self.appendAudit(to: store, context.audit(.secretsRotate, keys.signing.kid, at: time.now()))
            return TetherAPI.SigningKeyList(keys)
        }
    }
}
