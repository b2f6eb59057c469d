extension TetherAPI {
    /// The body of `POST /v1/keys`: without `projects`, an admin key.
    public struct CreateKeyRequest: Codable, Sendable, Hashable {
        /// A name for people.
        public var name: String
        /// The projects the key sees and changes; absent for an admin key.
        public var projects: [String]?
        /// How long the key is accepted from now (ms, up to 10 years); absent: for ever.
        public var expiresInMs: Int64?
        /// Also a CAR key pair (`secretId`, `secretKey`) for `TC3-HMAC-SHA256`-signed calls of the CAR-compatible
        /// endpoint (`POST /`), with the key's scope.
        public var car: Bool?

        /// Creates the body.
        public init(name: String, projects: [String]? = nil, expiresInMs: Int64? = nil, car: Bool? = nil) {
            self.name = name
            self.projects = projects
            self.expiresInMs = expiresInMs
            self.car = car
        }
    }

    /// An API key as listed: never the key itself.
    public struct Key: Codable, Sendable, Hashable {
        /// The key's id (`ak-…`), what `DELETE /v1/keys/{keyId}` takes.
        public var keyId: String
        /// Its name.
        public var name: String
        /// The projects of a project key; absent for an admin key.
        public var projects: [String]?
        /// When it was made (Unix epoch ms).
        public var createdAt: Int64
        /// When a call last presented it (Unix epoch ms, saved at most once a minute); absent if never.
        public var lastUsedAt: Int64?
        /// When it stops being accepted (Unix epoch ms); absent: never.
        public var expiresAt: Int64?
        /// The `SecretId` of its CAR key pair (`AKID…`); absent for a key made without `car`.
        public var secretId: String?

        /// Creates a key.
        public init(
            keyId: String, name: String, projects: [String]?, createdAt: Int64, lastUsedAt: Int64?,
            expiresAt: Int64? = nil, secretId: String? = nil
        ) {
            self.secretId = secretId
            self.expiresAt = expiresAt
            self.keyId = keyId
            self.name = name
            self.projects = projects
            self.createdAt = createdAt
            self.lastUsedAt = lastUsedAt
        }
    }

    /// `POST /v1/keys`' answer: the key, shown this once.
    public struct CreatedKey: Codable, Sendable, Hashable {
        /// The key's id.
        public var keyId: String
        /// Its name.
        public var name: String
        /// The projects of a project key; absent for an admin key.
        public var projects: [String]?
        /// When it was made (Unix epoch ms).
        public var createdAt: Int64
        /// The key (`tk_…`): the only time it is shown; the server keeps its SHA-256.
        public var key: String
        /// When it stops being accepted (Unix epoch ms); absent: never.
        public var expiresAt: Int64?
        /// With `car: true`: the CAR key pair's `SecretId` (`AKID…`) and `SecretKey`, the secret shown this once.
        public var secretId: String?
        public var secretKey: String?

        /// Creates the answer.
        public init(
            keyId: String, name: String, projects: [String]?, createdAt: Int64, key: String, expiresAt: Int64? = nil,
            secretId: String? = nil, secretKey: String? = nil
        ) {
            self.secretId = secretId
            self.secretKey = secretKey
            self.expiresAt = expiresAt
            self.keyId = keyId
            self.name = name
            self.projects = projects
            self.createdAt = createdAt
            self.key = key
        }
    }

    /// `GET /v1/keys`: every key, oldest first.
    public struct KeyList: Codable, Sendable, Hashable {
        /// The keys.
        public var keys: [Key]

        /// Creates the list.
        public init(keys: [Key]) { self.keys = keys }
    }
}
