import Crypto
import Foundation
import NIOConcurrencyHelpers
import TetherCore
import TetherStore

/// The keys that sign client and queue tokens (``SigningKeys``), kept in the store's setting `tokenKeys` (a JSON
/// array of keys, secrets in hex) and in memory with their HMAC keys. The node that serves clients (a lone
/// server, a cluster's owner) loads them at start (``load(store:time:)``); a rotation (``rotate(store:time:retireAfterMs:)``)
/// is saved first and used once saved. The single secret of earlier versions (setting `tokenSecret`) becomes
/// the first key, so tokens signed before the upgrade keep working until it retires.
public final class TokenKeyring: Sendable {
    /// A key with its HMAC key.
    public struct Key: Sendable {
        /// Its id.
        public let kid: String
        /// The HMAC-SHA256 key.
        let symmetric: SymmetricKey
    }

    /// The settings key.
    static let settingKey = "tokenKeys"
    /// The settings key of the single secret of earlier versions (hex).
    static let legacySettingKey = "tokenSecret"

    private struct State {
        var keys: SigningKeys
        var symmetric: [String: SymmetricKey]
        /// The key the legacy secret became (verifies tokens without a key id).
        var legacyKid: String?

        init(_ keys: SigningKeys, legacyKid: String?) {
            self.keys = keys
            symmetric = Dictionary(
                keys.keys.compactMap { key in
                    TetherServer.bytes(hex: key.secret).map { (key.kid, SymmetricKey(data: $0)) }
                },
                uniquingKeysWith: { a, _ in a })
            self.legacyKid = legacyKid
        }
    }

    private let state: NIOLockedValueBox<State>
    /// Rotations run one after another.
    private let rotations = NIOLockedValueBox<Task<Void, Never>?>(nil)

    private init(_ keys: SigningKeys, legacyKid: String?) {
        state = NIOLockedValueBox(State(keys, legacyKid: legacyKid))
    }

    /// A keyring of one key, `secret` (at least 32 bytes), which also verifies tokens without a key id.
    public convenience init(secret: [UInt8]) {
        precondition(secret.count >= 32, "token secret too short")
        let kid = Self.kid(of: secret)
        self.init(
            SigningKeys(first: SigningKeys.Key(kid: kid, secret: Secrets.hex(secret), createdAt: 0)), legacyKid: kid)
    }

    /// The keyring in `store`: its `tokenKeys`, else the legacy secret as the first key, else a new key;
    /// saved when it was not there yet.
    public static func load(store: any Store, time: any TimeSource) async throws -> TokenKeyring {
        let legacy = try await store.setting(legacySettingKey).flatMap(TetherServer.bytes(hex:)).flatMap {
            $0.count >= 32 ? $0 : nil
        }
        let legacyKid = legacy.map(kid(of:))
        if let text = try await store.setting(settingKey),
            let stored = try? JSONDecoder().decode([SigningKeys.Key].self, from: Data(text.utf8)),
            let keys = SigningKeys(keys: stored)
        {
            return TokenKeyring(keys, legacyKid: legacyKid)
        }
        let first: SigningKeys.Key
        if let legacy, let legacyKid {
            first = SigningKeys.Key(kid: legacyKid, secret: Secrets.hex(legacy), createdAt: time.now())
        } else {
            first = newKey(at: time.now())
        }
        let keys = SigningKeys(first: first)
        try await save(keys, store: store)
        return TokenKeyring(keys, legacyKid: legacyKid)
    }

    /// The key that signs new tokens.
    var signing: Key {
        state.withLockedValue { s in
            let kid = s.keys.signing.kid
            return Key(kid: kid, symmetric: s.symmetric[kid] ?? SymmetricKey(size: .bits256))
        }
    }

    /// The key `kid`, if it still verifies at `now`.
    func verifying(_ kid: String, at now: Millis) -> Key? {
        state.withLockedValue { s in
            guard s.keys.verifying(kid, at: now) != nil, let symmetric = s.symmetric[kid] else { return nil }
            return Key(kid: kid, symmetric: symmetric)
        }
    }

    /// The key of tokens without a key id (signed before the keyring), if it still verifies at `now`.
    func verifyingLegacy(at now: Millis) -> Key? {
        guard let kid = state.withLockedValue({ $0.legacyKid }) else { return nil }
        return verifying(kid, at: now)
    }

    /// The keys now (their secrets included: never answer them).
    public var keys: SigningKeys { state.withLockedValue { $0.keys } }

    /// Adds a new signing key and retires the one that signed until now `retireAfterMs` later; saved to
    /// `store` before it is used. Returns the keys after the rotation.
    public func rotate(store: any Store, time: any TimeSource, retireAfterMs: Millis) async throws -> SigningKeys {
        let previous = rotations.withLockedValue { $0 }
        let task = Task { () -> Result<SigningKeys, any Error> in
            await previous?.value
            let now = time.now()
            let next = state.withLockedValue { $0.keys }.rotated(
                to: Self.newKey(at: now), at: now, retireAfterMs: retireAfterMs)
            do {
                try await Self.save(next, store: store)
            } catch {
                return .failure(error)
            }
            state.withLockedValue { s in s = State(next, legacyKid: s.legacyKid) }
            return .success(next)
        }
        rotations.withLockedValue { $0 = Task { _ = await task.value } }
        return try await task.value.get()
    }

    private static func save(_ keys: SigningKeys, store: any Store) async throws {
        let data = try JSONEncoder().encode(keys.keys)
        try await store.setSetting(settingKey, String(decoding: data, as: UTF8.self))
    }

    /// A new key: 32 random bytes, and an id of `k` and 8 random hex digits.
    static func newKey(at now: Millis) -> SigningKeys.Key {
        SigningKeys.Key(
            kid: "k" + Secrets.hex(Secrets.randomBytes(4)), secret: Secrets.hex(Secrets.randomBytes(32)), createdAt: now
        )
    }

    /// The id of a legacy secret: `k` and the first 8 hex digits of its SHA-256 (the same on every node).
    static func kid(of secret: [UInt8]) -> String {
        "k" + Secrets.hex(SHA256.hash(data: secret).prefix(4))
    }
}
