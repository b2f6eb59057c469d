import TetherProtocol

extension TetherBackend {
    /// A token signing key as listed (never its secret).
    public typealias SigningKey = TetherAPI.SigningKey
    /// The token signing keys.
    public typealias SigningKeyList = TetherAPI.SigningKeyList
}

extension BackendRequest where Response == TetherBackend.SigningKeyList {
    /// `GET /v1/secrets`: the token signing keys (admin keys only).
    public static var secrets: Self { Self(method: "GET", path: "/v1/secrets") }

    /// `POST /v1/secrets/rotate`: a new signing key; the one that signed until now keeps verifying for
    /// `retireOldAfterMs` (default: the longest a token lives; 0 retires it at once).
    public static func rotateSecrets(retireOldAfterMs: Int64? = nil) -> Self {
        Self(
            method: "POST", path: "/v1/secrets/rotate",
            body: jsonBody(TetherAPI.RotateSecretsRequest(retireOldAfterMs: retireOldAfterMs)))
    }
}
