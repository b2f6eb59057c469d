/// The keys that sign client and queue tokens (issue 16, item 3): the newest signs, and every key verifies
/// until it retires. A rotation adds a key and retires the one that signed until then after `retireAfterMs`
/// (by default the longest a token lives), so a token signed just before still works for its whole life and
/// no session is broken; a rotation with 0 retires it at once (a leaked secret).
public struct SigningKeys: Sendable, Hashable, Codable {
    /// One key.
    public struct Key: Sendable, Hashable, Codable {
        /// Its id, carried by the tokens it signs (`k`).
        public var kid: String
        /// The HMAC-SHA256 key, hex.
        public var secret: String
        /// When it was made (Unix ms).
        public var createdAt: Millis
        /// When it stops verifying (Unix ms); `nil` while it is the signing key.
        public var retiresAt: Millis?

        /// Creates a key.
        public init(kid: String, secret: String, createdAt: Millis, retiresAt: Millis? = nil) {
            self.kid = kid
            self.secret = secret
            self.createdAt = createdAt
            self.retiresAt = retiresAt
        }
    }

    /// The most keys kept: a rotation beyond it retires the oldest at once (rotations faster than tokens expire
    /// must not grow the keys without end).
    public static let maxKeys = 16

    /// The keys, oldest first; the last one signs.
    public private(set) var keys: [Key]

    /// Keys starting with `first`, the signing key.
    public init(first: Key) {
        var key = first
        key.retiresAt = nil
        keys = [key]
    }

    /// The keys as stored; `nil` when there is none, or the last has retired (no key would sign).
    public init?(keys: [Key]) {
        guard let last = keys.last, last.retiresAt == nil else { return nil }
        self.keys = keys
    }

    /// The key that signs new tokens.
    public var signing: Key { keys[keys.count - 1] }

    /// The key with id `kid`, if it still verifies at `now`.
    public func verifying(_ kid: String, at now: Millis) -> Key? {
        guard let key = keys.last(where: { $0.kid == kid }) else { return nil }
        if let retiresAt = key.retiresAt, now >= retiresAt { return nil }
        return key
    }

    /// These keys after a rotation at `now`: `new` signs from now on; the key that signed until now retires
    /// `retireAfterMs` later (an earlier retirement already set stays); keys already retired are dropped, and
    /// the oldest beyond ``maxKeys``.
    public func rotated(to new: Key, at now: Millis, retireAfterMs: Millis) -> SigningKeys {
        var keys = self.keys.filter { key in key.retiresAt.map { now < $0 } ?? true }
        for i in keys.indices where keys[i].retiresAt == nil {
            keys[i].retiresAt = now + max(0, retireAfterMs)
        }
        var next = new
        next.retiresAt = nil
        keys.append(next)
        if keys.count > Self.maxKeys { keys.removeFirst(keys.count - Self.maxKeys) }
        return SigningKeys(keys: keys) ?? SigningKeys(first: next)
    }
}
