import TetherProtocol

extension TetherBackend {
    /// An API key as listed (never the key).
    public typealias Key = TetherAPI.Key
    /// A new key: shown this once.
    public typealias CreatedKey = TetherAPI.CreatedKey
    /// Every key.
    public typealias KeyList = TetherAPI.KeyList
}

extension BackendRequest where Response == TetherBackend.CreatedKey {
    /// `POST /v1/keys`: an admin key, or with `projects` a key that sees and changes only those projects.
    /// With `expiresInMs`, the key is refused from that long after its creation on. With `car`, the answer also
    /// holds a CAR key pair (`secretId`, `secretKey`) for the CAR-compatible endpoint.
    public static func createKey(
        name: String, projects: [String]? = nil, expiresInMs: Int64? = nil, car: Bool = false
    ) -> Self {
        Self(
            method: "POST", path: "/v1/keys",
            body: jsonBody(
                TetherAPI.CreateKeyRequest(
                    name: name, projects: projects, expiresInMs: expiresInMs, car: car ? true : nil)))
    }
}

extension BackendRequest where Response == TetherBackend.KeyList {
    /// `GET /v1/keys`.
    public static var keys: Self { Self(method: "GET", path: "/v1/keys") }
}

extension BackendRequest where Response == TetherBackend.Key {
    /// `DELETE /v1/keys/{keyId}`: revoked at once, on every node.
    public static func revokeKey(_ keyId: String) -> Self { Self(method: "DELETE", path: "/v1/keys/\(segment(keyId))") }
}
