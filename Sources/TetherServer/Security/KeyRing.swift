import Foundation
import Logging
import NIOConcurrencyHelpers
import TetherCore
import TetherProtocol
import TetherStore

/// The API keys a node accepts, kept in the store's setting `apiKeys` (a JSON array of ``KeyEntry``, hashes
/// only) and in memory for the per-request lookup: one SHA-256 of the presented key and a dictionary lookup
/// under a lock (the presented key's hash, not the key, is what the lookup's time depends on).
///
/// Changes (create, revoke, the usage times) are made one at a time, saved first and applied to memory once
/// saved: a key is usable, or revoked, from the moment its call is answered. The node that serves the backend
/// API (a lone server, a cluster's owner) holds the ring that changes; a follower's ring re-reads the store
/// before each call it answers itself (``reload()``), so a key revoked through the owner is refused there at
/// once too.
final class KeyRing: Sendable {
    /// The settings key.
    static let settingKey = "apiKeys"
    /// The settings key of versions before project keys: a JSON array of hashes.
    static let legacySettingKey = "apiKeyHashes"

    private struct State {
        var entries: [KeyEntry] = []
        var byHash: [String: KeyEntry] = [:]
        /// Usage seen since start, by key id (saved at most once a minute by ``flush()``).
        var lastUsed: [String: Millis] = [:]

        mutating func set(_ entries: [KeyEntry]) {
            self.entries = entries
            byHash = Dictionary(entries.map { ($0.hash, $0) }, uniquingKeysWith: { a, _ in a })
            let ids = Set(entries.map(\.keyId))
            lastUsed = lastUsed.filter { ids.contains($0.key) }
        }
    }

    private let state = NIOLockedValueBox(State())
    private let store: any Store
    private let time: any TimeSource
    /// `--api-key`: always an admin key of this node (added to the store by the node that changes keys).
    private let given: String?
    /// The last change in flight: changes run one after another.
    private let tail = NIOLockedValueBox<Task<Void, Never>?>(nil)
    /// When ``reload(ifOlderThanMs:)`` last read the store.
    private let reloadedAt = NIOLockedValueBox<Millis>(.min / 2)

    init(store: any Store, time: any TimeSource, given: String?) {
        self.store = store
        self.time = time
        self.given = given.flatMap { $0.isEmpty ? nil : $0 }
    }

    // MARK: Lookup

    /// The key presented as `token`, if it is one; its use is noted for `lastUsedAt`.
    func authenticate(_ token: String) -> KeyEntry? {
        let hash = Secrets.hash(token)
        let now = time.now()
        return state.withLockedValue { state in
            guard let entry = state.byHash[hash], entry.isLive(at: now) else { return nil }
            state.lastUsed[entry.keyId] = now
            return entry
        }
    }

    /// The key whose CAR key pair has `secretId`, with its secret key, if it is accepted; its use is noted.
    func carKey(secretId: String) -> (entry: KeyEntry, secretKey: String)? {
        let now = time.now()
        return state.withLockedValue { state in
            guard let entry = state.entries.first(where: { $0.secretId == secretId }), entry.isLive(at: now),
                let secretKey = entry.secretKey
            else { return nil }
            state.lastUsed[entry.keyId] = now
            return (entry, secretKey)
        }
    }

    /// Whether the key `keyId` is still accepted (an event stream opened with it ends once it is not).
    func isLive(_ keyId: String) -> Bool {
        let now = time.now()
        return state.withLockedValue { state in state.entries.contains { $0.keyId == keyId && $0.isLive(at: now) } }
    }

    /// Every key, oldest first, with its latest use.
    func list() -> [KeyEntry] {
        state.withLockedValue { state in KeyRules.merging(lastUsed: state.lastUsed, into: state.entries) }
    }

    // MARK: Loading

    /// Loads the keys of the node that changes them: the stored ones (or those of an older version), plus
    /// `--api-key`, or, with none at all, a new admin key printed once. Saves the result.
    func load(logger: Logger) async throws {
        var entries = try await stored()
        let now = time.now()
        if let given {
            entries = KeyRules.adding(adminHash: Secrets.hash(given), name: "--api-key", at: now, to: entries)
        } else if entries.isEmpty {
            let key = Self.newKey()
            entries = KeyRules.adding(adminHash: Secrets.hash(key), name: "initial", at: now, to: entries)
            Console.line("tether: generated API key (shown once, stored only as a hash): \(key)")
        } else {
            Console.line("tether: using the API key(s) stored in the data file (printed when first generated)")
        }
        try await save(entries)
        state.withLockedValue { $0.set(entries) }
    }

    /// Re-reads the stored keys unless they were read less than `ms` ago (an event stream's check).
    func reload(ifOlderThanMs ms: Millis) async throws {
        let now = time.now()
        let due = reloadedAt.withLockedValue { at in
            guard now - at >= ms else { return false }
            at = now
            return true
        }
        if due { try await reload() }
    }

    /// Re-reads the stored keys (a follower, before a call it answers itself). Saves nothing.
    func reload() async throws {
        var entries = try await stored()
        if let given {
            entries = KeyRules.adding(adminHash: Secrets.hash(given), name: "--api-key", at: time.now(), to: entries)
        }
        state.withLockedValue { $0.set(entries) }
    }

    private func stored() async throws -> [KeyEntry] {
        if let text = try await store.setting(Self.settingKey) {
            return try StrictJSONDecoder().decode([KeyEntry].self, from: text.utf8)
        }
        guard let text = try await store.setting(Self.legacySettingKey),
            let hashes = try? StrictJSONDecoder().decode([String].self, from: text.utf8)
        else { return [] }
        let now = time.now()
        return hashes.reduce(into: []) { entries, hash in
            entries = KeyRules.adding(adminHash: hash, name: "initial", at: now, to: entries)
        }
    }

    // MARK: Changes

    /// Creates a key; the answer holds the key, shown this once.
    func create(
        name: String, projects: [ProjectID]?, expiresInMs: Millis? = nil, car: Bool = false,
        existing: @escaping @Sendable (ProjectID) -> Bool
    ) async throws -> (entry: KeyEntry, key: String) {
        let checked = try KeyRules.checkNew(name: name, projects: projects, existing: existing)
        let now = time.now()
        let expiresAt = try KeyRules.expiry(inMs: expiresInMs, at: now)
        let key = Self.newKey()
        let entry = KeyEntry(
            keyId: "ak-" + Secrets.hex(Secrets.randomBytes(8)), name: name, projects: checked, createdAt: now,
            hash: Secrets.hash(key), expiresAt: expiresAt,
            secretId: car ? Self.newSecretId() : nil, secretKey: car ? Self.newSecretKey() : nil)
        try await change { entries in (entries + [entry], ()) }
        return (entry, key)
    }

    /// Revokes a key: from the moment this returns, no call presenting it is accepted by this node.
    func revoke(_ keyId: String) async throws -> KeyEntry {
        let now = time.now()
        return try await change { entries throws(KeyError) in
            let (revoked, left) = try KeyRules.revoke(keyId, from: entries, at: now)
            return (left, revoked)
        }
    }

    /// Saves the usage times noted since the last save, if any changed.
    func flush() async throws {
        let stale = state.withLockedValue { state in
            state.entries.contains { entry in
                guard let used = state.lastUsed[entry.keyId] else { return false }
                return used > (entry.lastUsedAt ?? .min)
            }
        }
        guard stale else { return }
        try await change { entries in (entries, ()) }
    }

    /// Applies `body` to the keys (with their latest use), saves the result, then serves it; one change at a
    /// time.
    private func change<T: Sendable>(_ body: @escaping @Sendable ([KeyEntry]) throws(KeyError) -> ([KeyEntry], T))
        async throws -> T
    {
        let task: Task<T, any Error> = tail.withLockedValue { tail in
            let previous = tail
            let task = Task<T, any Error> { [self] in
                await previous?.value
                let current = self.list()
                let (next, result) = try body(current)
                try await self.save(next)
                self.state.withLockedValue { $0.set(next) }
                return result
            }
            tail = Task { _ = try? await task.value }
            return task
        }
        return try await task.value
    }

    private func save(_ entries: [KeyEntry]) async throws {
        let text = String(decoding: try JSONEncoder().encode(entries), as: UTF8.self)
        do {
            try await store.setSetting(Self.settingKey, text)
        } catch {
            throw StoreUnavailable()
        }
    }

    /// A new key: `tk_` and 256 random bits.
    static func newKey() -> String { "tk_" + Secrets.randomToken() }

    /// A CAR `SecretId`: `AKID` and 32 random letters and digits, as Tencent Cloud's look (36 characters).
    static func newSecretId() -> String { "AKID" + randomAlphanumerics(32) }

    /// A CAR `SecretKey`: 32 random letters and digits (~190 bits).
    static func newSecretKey() -> String { randomAlphanumerics(32) }

    private static func randomAlphanumerics(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var rng = SystemRandomNumberGenerator()
        return String(
            decoding: (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }, as: UTF8.self)
    }
}
