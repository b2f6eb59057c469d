extension TetherAPI {
    /// The body of `POST /v1/secrets/rotate`; every field may be left out.
    public struct RotateSecretsRequest: Codable, Sendable, Hashable {
        /// How long the key that signed until now keeps verifying (ms; default the longest a token lives,
        /// 7 days; 0 retires it at once, for a leaked secret).
        public var retireOldAfterMs: Int64?

        /// Creates the body.
        public init(retireOldAfterMs: Int64? = nil) { self.retireOldAfterMs = retireOldAfterMs }
    }

    /// A token signing key as listed: never its secret.
    public struct SigningKey: Codable, Sendable, Hashable {
        /// Its id, carried by the tokens it signs.
        public var kid: String
        /// When it was made (Unix epoch ms).
        public var createdAt: Int64
        /// When it stops verifying (Unix epoch ms); absent for the signing key.
        public var retiresAt: Int64?
        /// Whether it signs new tokens.
        public var signing: Bool

        /// Creates a key.
        public init(kid: String, createdAt: Int64, retiresAt: Int64?, signing: Bool) {
            self.kid = kid
            self.createdAt = createdAt
            self.retiresAt = retiresAt
            self.signing = signing
        }
    }

    /// `GET /v1/secrets` and `POST /v1/secrets/rotate`: the token signing keys, oldest first.
    public struct SigningKeyList: Codable, Sendable, Hashable {
        /// The keys.
        public var keys: [SigningKey]

        /// Creates the list.
        public init(keys: [SigningKey]) { self.keys = keys }
    }
}
