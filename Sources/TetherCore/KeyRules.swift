/// An API key as stored: never the key itself, only its SHA-256.
public struct KeyEntry: Codable, Sendable, Hashable {
    /// The key's public id (`ak-` and 16 hex digits).
    public var keyId: String
    /// A name for people.
    public var name: String
    /// The projects of a project key; absent for an admin key.
    public var projects: [ProjectID]?
    /// When it was made (Unix epoch ms).
    public var createdAt: Millis
    /// When a call last presented it (Unix epoch ms), as last saved.
    public var lastUsedAt: Millis?
    /// SHA-256 of the key, lowercase hex.
    public var hash: String
    /// When it stops being accepted (Unix epoch ms); `nil`: never.
    public var expiresAt: Millis?
    /// The `SecretId` of the key's CAR key pair, if it has one.
    public var secretId: String?
    /// The pair's `SecretKey`, kept as it is: a `TC3-HMAC-SHA256` signature can be checked only with it (never
    /// shown after its creation).
    public var secretKey: String?

    /// Creates an entry.
    public init(
        keyId: String, name: String, projects: [ProjectID]?, createdAt: Millis, lastUsedAt: Millis? = nil,
        hash: String, expiresAt: Millis? = nil, secretId: String? = nil, secretKey: String? = nil
    ) {
        self.secretId = secretId
        self.secretKey = secretKey
        self.keyId = keyId
        self.name = name
        self.projects = projects
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.hash = hash
        self.expiresAt = expiresAt
    }

    /// Whether the key is accepted at `now` (not expired).
    public func isLive(at now: Millis) -> Bool { expiresAt.map { now < $0 } ?? true }

    /// What the key may see and change.
    public var scope: KeyScope { KeyScope(projects: projects) }
}

/// Why a key operation was refused; a refused operation changes nothing.
public enum KeyError: Error, Sendable, Hashable {
    /// A field is missing, malformed or out of range.
    case invalidParameter(field: String, message: String)
    /// A project named in `projects` does not exist.
    case projectNotFound(ProjectID)
    /// No key with this id.
    case keyNotFound(String)
    /// Revoking it would leave no admin key.
    case lastAdminKey(String)
    /// Only an admin key may do this.
    case adminOnly(String)

    /// The contract's code.
    public var code: String {
        switch self {
        case .invalidParameter: "InvalidParameterValue"
        case .projectNotFound: "ResourceNotFound.Project"
        case .keyNotFound: "ResourceNotFound.Key"
        case .lastAdminKey: "FailedOperation.LastAdminKey"
        case .adminOnly: "UnauthorizedOperation"
        }
    }

    /// A message for people.
    public var message: String {
        switch self {
        case .invalidParameter(let field, let message): "\(field): \(message)"
        case .projectNotFound(let id): "project '\(id)' not found"
        case .keyNotFound(let id): "key '\(id)' not found"
        case .lastAdminKey(let id): "key '\(id)' is the last admin key; create another admin key before revoking it"
        case .adminOnly(let what): "\(what) needs an admin key (this key is scoped to projects)"
        }
    }
}

/// The rules of API keys: what a new key may be, what revoking leaves, and how keys of older versions (bare
/// hashes) become entries. Pure: the shell supplies the time, the existing projects and the random id.
public enum KeyRules {
    /// The most projects one key names.
    public static let maxProjects = 1_000
    /// A key name's length in characters.
    public static let nameLength = 1...128

    /// Checks a new key's fields against the existing projects; returns the projects sorted and without
    /// repeats (nil for an admin key).
    public static func checkNew(name: String, projects: [ProjectID]?, existing: (ProjectID) -> Bool) throws(KeyError)
        -> [ProjectID]?
    {
        guard nameLength.contains(name.unicodeScalars.count),
            name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && !(0x7F..<0xA0).contains($0.value) })
        else {
            throw .invalidParameter(field: "name", message: "must be 1 to 128 characters without control characters")
        }
        guard let projects else { return nil }
        guard (1...maxProjects).contains(projects.count) else {
            throw .invalidParameter(
                field: "projects",
                message: "must name 1 to \(maxProjects) projects (leave it out for an admin key)")
        }
        var seen = Set<ProjectID>()
        for (i, id) in projects.enumerated() {
            guard seen.insert(id).inserted else {
                throw .invalidParameter(field: "projects[\(i)]", message: "names '\(id)' twice")
            }
            do { try Validation.projectID(id, field: "projects[\(i)]") } catch {
                throw .invalidParameter(
                    field: "projects[\(i)]", message: "must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'")
            }
            guard existing(id) else { throw .projectNotFound(id) }
        }
        return projects.sorted()
    }

    /// A new key's expiry from its `expiresInMs` asked at `now`: `nil` (never) when absent; 1 ms to
    /// ``maxLifetimeMs`` ahead. (A lifetime rather than a time: a schema can say what is valid, and clocks
    /// differ.)
    public static func expiry(inMs expiresInMs: Millis?, at now: Millis) throws(KeyError) -> Millis? {
        guard let expiresInMs else { return nil }
        guard (1...maxLifetimeMs).contains(expiresInMs) else {
            throw .invalidParameter(
                field: "expiresInMs", message: "must be between 1 and \(maxLifetimeMs) (10 years), in milliseconds")
        }
        return now + expiresInMs
    }

    /// The longest an expiring key may live (10 years).
    public static let maxLifetimeMs: Millis = 10 * 365 * 86_400_000

    /// The entries once `keyId` is revoked at `now`: never the last admin key still accepted (an expired one
    /// does not count).
    public static func revoke(_ keyId: String, from entries: [KeyEntry], at now: Millis = .min) throws(KeyError) -> (
        revoked: KeyEntry, left: [KeyEntry]
    ) {
        guard let index = entries.firstIndex(where: { $0.keyId == keyId }) else { throw .keyNotFound(keyId) }
        let revoked = entries[index]
        if revoked.scope.isAdmin
            && !entries.contains(where: { $0.keyId != keyId && $0.scope.isAdmin && $0.isLive(at: now) })
        {
            throw .lastAdminKey(keyId)
        }
        var left = entries
        left.remove(at: index)
        return (revoked, left)
    }

    /// The id of a key that came without one (a hash stored by an older version, or `--api-key`): derived from
    /// its hash, so that every node names it the same.
    public static func derivedKeyId(hash: String) -> String { "ak-" + String(hash.prefix(16)) }

    /// `entries` with an admin key of `hash` added (named `name`) unless one with that hash is there.
    public static func adding(adminHash hash: String, name: String, at now: Millis, to entries: [KeyEntry])
        -> [KeyEntry]
    {
        guard !entries.contains(where: { $0.hash == hash }) else { return entries }
        return entries + [
            KeyEntry(keyId: derivedKeyId(hash: hash), name: name, projects: nil, createdAt: now, hash: hash)
        ]
    }

    /// The entries with the usage times seen since the last save (the later of the two).
    public static func merging(lastUsed: [String: Millis], into entries: [KeyEntry]) -> [KeyEntry] {
        entries.map { entry in
            guard let used = lastUsed[entry.keyId], used > (entry.lastUsedAt ?? .min) else { return entry }
            var entry = entry
            entry.lastUsedAt = used
            return entry
        }
    }
}
