import Testing
import TetherCore

/// API keys' rules (issue 16, item 1): what a new key may be, what a project key sees, what revoking leaves,
/// and how keys that came without an entry (an older version's hashes, `--api-key`) become entries.
@Suite struct KeyRulesTests {
    static func admin(_ id: String) -> KeyEntry {
        KeyEntry(keyId: id, name: id, projects: nil, createdAt: 1, hash: "h-\(id)")
    }
    static func scoped(_ id: String, _ projects: [String]) -> KeyEntry {
        KeyEntry(keyId: id, name: id, projects: projects, createdAt: 1, hash: "h-\(id)")
    }

    @Test func aProjectKeySeesItsProjectsOnlyAndIsNoAdmin() {
        let scope = KeyScope(projects: ["a", "b"])
        #expect(scope.sees("a") && scope.sees("b") && !scope.sees("c") && !scope.sees(""))
        #expect(!scope.isAdmin)
        #expect(KeyScope(projects: nil) == .admin && KeyScope.admin.isAdmin && KeyScope.admin.sees("anything"))
        #expect(!KeyScope.projects([]).sees("a"))
    }

    @Test func aNewKeyNeedsANameAndExistingProjectsEachOnce() throws {
        let exists: (String) -> Bool = { ["a", "b"].contains($0) }
        #expect(try KeyRules.checkNew(name: "ci", projects: nil, existing: exists) == nil)
        #expect(try KeyRules.checkNew(name: "ci", projects: ["b", "a"], existing: exists) == ["a", "b"])
        let refused: [(String, [String]?, KeyError)] = [
            ("", nil, .invalidParameter(field: "name", message: "")),
            (String(repeating: "n", count: 129), nil, .invalidParameter(field: "name", message: "")),
            ("a\u{7}b", nil, .invalidParameter(field: "name", message: "")),
            ("ci", [], .invalidParameter(field: "projects", message: "")),
            ("ci", ["a", "a"], .invalidParameter(field: "projects[1]", message: "")),
            ("ci", ["a", "zz"], .projectNotFound("zz")),
            ("ci", ["a", "b c"], .invalidParameter(field: "projects[1]", message: "")),
        ]
        for (name, projects, expected) in refused {
            do {
                _ = try KeyRules.checkNew(name: name, projects: projects, existing: exists)
                Issue.record("accepted \(name) \(String(describing: projects))")
            } catch {
                switch (error, expected) {
                case (.invalidParameter(let field, _), .invalidParameter(let want, _)): #expect(field == want)
                default: #expect(error == expected)
                }
            }
        }
        #expect(try KeyRules.checkNew(name: String(repeating: "é", count: 128), projects: nil, existing: exists) == nil)
    }

    @Test func revokingLeavesTheOthersAndNeverTheLastAdminKey() throws {
        let entries = [Self.admin("k1"), Self.scoped("k2", ["a"]), Self.admin("k3")]
        let (revoked, left) = try KeyRules.revoke("k1", from: entries)
        #expect(revoked.keyId == "k1" && left.map(\.keyId) == ["k2", "k3"])
        #expect(throws: KeyError.lastAdminKey("k3")) { try KeyRules.revoke("k3", from: left) }
        #expect(try KeyRules.revoke("k2", from: left).left.map(\.keyId) == ["k3"])
        #expect(throws: KeyError.keyNotFound("k9")) { try KeyRules.revoke("k9", from: entries) }
    }

    @Test func keysWithoutAnEntryGetOneNamedByTheirHashOnce() {
        let hash = String(repeating: "ab", count: 32)
        let once = KeyRules.adding(adminHash: hash, name: "--api-key", at: 5, to: [])
        #expect(once.count == 1 && once[0].keyId == "ak-abababababababab" && once[0].scope == .admin)
        #expect(once[0].createdAt == 5 && once[0].name == "--api-key")
        #expect(KeyRules.adding(adminHash: hash, name: "again", at: 9, to: once) == once)
    }

    @Test func usageTimesMergeAsTheLaterOfTheTwo() {
        var entries = [Self.admin("k1"), Self.admin("k2")]
        entries[1].lastUsedAt = 50
        let merged = KeyRules.merging(lastUsed: ["k1": 10, "k2": 40, "gone": 99], into: entries)
        #expect(merged.map(\.lastUsedAt) == [10, 50])
    }
}

/// Keys that expire (issue 16, item 7): refused from their `expiresAt` on, and an expired admin key does not
/// count as the admin key that must remain.
@Suite struct KeyExpiryTests {
    static func entry(_ id: String, admin: Bool = true, expiresAt: Millis? = nil) -> KeyEntry {
        KeyEntry(
            keyId: id, name: id, projects: admin ? nil : ["p"], createdAt: 0, hash: String(repeating: "a", count: 64),
            expiresAt: expiresAt)
    }

    @Test func aKeyIsLiveUntilItsExpiry() {
        #expect(Self.entry("a").isLive(at: .max - 1))
        let expiring = Self.entry("b", expiresAt: 1_000)
        #expect(expiring.isLive(at: 999) && !expiring.isLive(at: 1_000))
    }

    @Test func anExpiryIsALifetimeOfOneMillisecondToTenYears() throws {
        #expect(try KeyRules.expiry(inMs: nil, at: 5) == nil)
        #expect(try KeyRules.expiry(inMs: 1, at: 5) == 6)
        #expect(try KeyRules.expiry(inMs: KeyRules.maxLifetimeMs, at: 5) == 5 + KeyRules.maxLifetimeMs)
        for bad: Millis in [0, -1, .min, KeyRules.maxLifetimeMs + 1, .max] {
            #expect(throws: KeyError.self) { try KeyRules.expiry(inMs: bad, at: 5) }
        }
    }

    @Test func anExpiredAdminKeyDoesNotCountAsTheOneThatMustRemain() throws {
        let entries = [Self.entry("live"), Self.entry("gone", expiresAt: 100), Self.entry("scoped", admin: false)]
        #expect(throws: KeyError.lastAdminKey("live")) { try KeyRules.revoke("live", from: entries, at: 100) }
        // Before the other one expires, it still counts.
        #expect(try KeyRules.revoke("live", from: entries, at: 99).left.map(\.keyId) == ["gone", "scoped"])
        #expect(try KeyRules.revoke("gone", from: entries, at: 100).left.map(\.keyId) == ["live", "scoped"])
    }
}
