import Testing

@testable import TetherCore

/// Token signing keys: the newest signs, a rotated key verifies until it retires, then never again.
@Suite struct SigningKeysTests {
    static let week: Millis = 7 * 24 * 3_600_000

    static func key(_ kid: String, at: Millis) -> SigningKeys.Key {
        SigningKeys.Key(kid: kid, secret: String(repeating: "ab", count: 32), createdAt: at)
    }

    @Test func aRotationSignsWithTheNewKeyAndVerifiesTheOldUntilItRetires() {
        let first = SigningKeys(first: Self.key("k1", at: 0))
        #expect(first.signing.kid == "k1" && first.verifying("k1", at: 10_000_000_000) != nil)
        let second = first.rotated(to: Self.key("k2", at: 1_000), at: 1_000, retireAfterMs: Self.week)
        #expect(second.signing.kid == "k2")
        #expect(second.verifying("k1", at: 1_000 + Self.week - 1)?.kid == "k1")
        #expect(second.verifying("k1", at: 1_000 + Self.week) == nil, "retired")
        #expect(second.verifying("k2", at: 1_000 + Self.week)?.kid == "k2")
        #expect(second.verifying("k3", at: 0) == nil, "unknown")
    }

    @Test func aRotationWithZeroRetiresTheOldKeyAtOnce() {
        let keys = SigningKeys(first: Self.key("k1", at: 0)).rotated(to: Self.key("k2", at: 5), at: 5, retireAfterMs: 0)
        #expect(keys.verifying("k1", at: 5) == nil)
        #expect(keys.verifying("k2", at: 5) != nil)
    }

    @Test func retiredKeysAreDroppedAndAnEarlierRetirementStays() {
        var keys = SigningKeys(first: Self.key("k1", at: 0))
        keys = keys.rotated(to: Self.key("k2", at: 10), at: 10, retireAfterMs: 100)  // k1 retires at 110
        keys = keys.rotated(to: Self.key("k3", at: 20), at: 20, retireAfterMs: 1_000)  // k2 at 1 020
        #expect(keys.keys.map(\.kid) == ["k1", "k2", "k3"])
        #expect(keys.keys.map(\.retiresAt) == [110, 1_020, nil], "k1's earlier retirement stays")
        keys = keys.rotated(to: Self.key("k4", at: 200), at: 200, retireAfterMs: 1_000)
        #expect(keys.keys.map(\.kid) == ["k2", "k3", "k4"], "k1 retired at 110: dropped")
        #expect(keys.keys.map(\.retiresAt) == [1_020, 1_200, nil])
    }

    @Test func rotationsFasterThanTokensExpireKeepAtMostMaxKeys() {
        var keys = SigningKeys(first: Self.key("k0", at: 0))
        for i in 1...40 {
            keys = keys.rotated(to: Self.key("k\(i)", at: Millis(i)), at: Millis(i), retireAfterMs: Self.week)
        }
        #expect(keys.keys.count == SigningKeys.maxKeys)
        #expect(keys.signing.kid == "k40" && keys.keys.first?.kid == "k25")
        #expect(keys.verifying("k24", at: 41) == nil, "dropped: retired early")
        #expect(keys.verifying("k25", at: 41) != nil)
    }

    @Test func storedKeysWithoutASigningKeyAreRefused() {
        #expect(SigningKeys(keys: []) == nil)
        var retired = Self.key("k1", at: 0)
        retired.retiresAt = 5
        #expect(SigningKeys(keys: [retired]) == nil)
        #expect(SigningKeys(keys: [retired, Self.key("k2", at: 1)])?.signing.kid == "k2")
    }
}
