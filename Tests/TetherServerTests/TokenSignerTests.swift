import Crypto
import Foundation
import Testing
import TetherCore
import TetherStore
import TetherTestKit

@testable import TetherServer

/// Client and queue tokens carry the id of the key that signed them (issue 16, item 3): the newest key signs,
/// a rotated key verifies until it retires, tokens of before the keyring verify with the key the old secret
/// became, and nothing else passes.
@Suite struct TokenSignerTests {
    static let secret = Array(repeating: UInt8(7), count: 32)

    /// A legacy `v1.` token as versions before the keyring signed it: the payload's HMAC with the secret.
    static func legacyToken(session: String, epoch: UInt64, expiresAt: Millis) -> String {
        let payload = Array(#"{"s":"\#(session)","e":\#(epoch),"x":\#(expiresAt)}"#.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: secret))
        return "v1." + Base64URL.encode(payload) + "." + Base64URL.encode(mac)
    }

    @Test func tokensCarryTheSigningKeysIdAndLegacyTokensStillVerify() {
        let signer = TokenSigner(secret: Self.secret)
        let token = signer.token(session: "s-1", epoch: 2, expiresAt: 5_000)
        let parts = token.split(separator: ".")
        #expect(parts.count == 4 && parts[0] == "v2" && parts[1] == signer.keyring.keys.signing.kid)
        #expect(signer.verify(token, now: 1) == TokenSigner.Claims(s: "s-1", e: 2, x: 5_000))
        #expect(signer.verify(token, now: 5_000) == nil, "expired")
        let legacy = Self.legacyToken(session: "s-1", epoch: 2, expiresAt: 5_000)
        #expect(signer.verify(legacy, now: 1) == TokenSigner.Claims(s: "s-1", e: 2, x: 5_000))
    }

    @Test func aRotatedKeyVerifiesUntilItRetiresThenItsTokensAreRefused() async throws {
        try await withTemporaryStore { store in
            let time = ManualTime(1_000)
            let keyring = try await TokenKeyring.load(store: store, time: time)
            let signer = TokenSigner(keyring: keyring)
            let old = signer.token(session: "s-1", epoch: 1, expiresAt: 10_000_000)
            let oldQueue = signer.queueToken(project: "p", ticket: "qt-1", expiresAt: 10_000_000)
            _ = try await keyring.rotate(store: store, time: time, retireAfterMs: 5_000)
            let new = signer.token(session: "s-2", epoch: 1, expiresAt: 10_000_000)
            #expect(new.split(separator: ".")[1] != old.split(separator: ".")[1], "signed by the new key")
            // Until 6 000 both verify; from then on the old key's tokens are refused, the new key's are not.
            #expect(signer.verify(old, now: 5_999)?.s == "s-1" && signer.verifyQueueToken(oldQueue, now: 5_999) != nil)
            #expect(signer.verify(old, now: 6_000) == nil && signer.verifyQueueToken(oldQueue, now: 6_000) == nil)
            #expect(signer.verify(new, now: 6_000)?.s == "s-2")
            // The keys are in the store: a restarted server verifies the same way.
            let reloaded = TokenSigner(keyring: try await TokenKeyring.load(store: store, time: time))
            #expect(reloaded.verify(new, now: 6_000)?.s == "s-2" && reloaded.verify(old, now: 6_000) == nil)
            #expect(reloaded.verify(old, now: 5_999)?.s == "s-1")
        }
    }

    @Test func aStoreOfBeforeTheKeyringKeepsItsSecretAsTheFirstKey() async throws {
        try await withTemporaryStore { store in
            try await store.setSetting("tokenSecret", Secrets.hex(Self.secret))
            let time = ManualTime(1_000)
            let signer = TokenSigner(keyring: try await TokenKeyring.load(store: store, time: time))
            let legacy = Self.legacyToken(session: "s-9", epoch: 3, expiresAt: 9_000)
            #expect(signer.verify(legacy, now: 2_000)?.s == "s-9", "a token signed before the upgrade")
            let saved = try await store.setting("tokenKeys")
            #expect(signer.keyring.keys.keys.count == 1 && saved != nil)
            // Once that key retires, the old tokens go with it.
            _ = try await signer.keyring.rotate(store: store, time: time, retireAfterMs: 0)
            #expect(signer.verify(legacy, now: 2_000) == nil)
        }
    }

    @Test func forgedTamperedAndCrossTypeTokensAreRefused() {
        let signer = TokenSigner(secret: Self.secret)
        let other = TokenSigner(secret: Array(repeating: 8, count: 32))
        let token = signer.token(session: "s-1", epoch: 1, expiresAt: 5_000)
        let queue = signer.queueToken(project: "p", ticket: "qt-1", expiresAt: 5_000)
        let parts = token.split(separator: ".").map(String.init)
        let tampered = [
            other.token(session: "s-1", epoch: 1, expiresAt: 5_000),  // another server's key
            ([parts[0], "kdeadbeef"] + parts[2...]).joined(separator: "."),  // an unknown key id
            ([parts[0], parts[1], Base64URL.encode(Array(#"{"s":"s-2","e":1,"x":5000}"#.utf8)), parts[3]])
                .joined(separator: "."),  // another payload
            (["v1"] + parts[2...]).joined(separator: "."),  // the key id dropped
            (["q2"] + parts[1...]).joined(separator: "."),  // a client token as a queue token
            parts.joined(separator: ".") + ".x", "", "v2", "v2...", "v2.\(parts[1]).e30.",
        ]
        for t in tampered {
            #expect(signer.verify(t, now: 1) == nil && signer.verifyQueueToken(t, now: 1) == nil, "\(t)")
        }
        #expect(signer.verify(queue, now: 1) == nil, "a queue token is no client token")
        #expect(signer.verifyQueueToken(token, now: 1) == nil, "nor the reverse")
    }

    /// A fresh SQLite store for `body`.
    func withTemporaryStore(_ body: (any Store) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tether-keys-\(UUID()).sqlite").path
        let store = try SQLiteStore(path: path)
        try await store.migrate()
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}
