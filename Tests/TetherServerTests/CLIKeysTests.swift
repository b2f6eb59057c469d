import Foundation
import Testing
import TetherTestKit

/// `tether keys create|list|revoke` against a real `tether serve` (issue 16, item 1).
@Suite struct CLIKeysTests {
    @Test func keysAreCreatedListedUsedAndRevoked() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.apiPort)"
        let admin = CLI(url: url, apiKey: SDKServer.key)
        #expect(try await admin.run("projects", "create", "game").status == 0)
        #expect(try await admin.run("projects", "create", "other").status == 0)

        let created = try await admin.run("keys", "create", "team", "--project", "game")
        #expect(created.status == 0, "\(created.stderr)")
        let fields = Dictionary(
            created.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { return nil }
                return (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
            }, uniquingKeysWith: { a, _ in a })
        let key = try #require(fields["key"])
        let keyId = try #require(fields["keyId"])
        #expect(key.hasPrefix("tk_") && fields["projects"] == "game", "\(created.stdout)")

        // The project key, through the CLI: its project only; managing keys is refused.
        let team = CLI(url: url, apiKey: key)
        let projects = try await team.run("projects", "list", "--json").json()
        #expect((projects["projects"] as? [[String: Any]])?.map { $0["id"] as? String } == ["game"])
        let refused = try await team.run("keys", "list")
        #expect(refused.status == 1 && refused.stderr.hasPrefix("Error: UnauthorizedOperation: "), "\(refused.stderr)")

        let listed = try await admin.run("keys", "list")
        #expect(listed.status == 0)
        let lines = listed.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("KEY ID") == true && lines.count == 3, "\(listed.stdout)")
        #expect(lines.contains { $0.hasPrefix(keyId) && $0.contains("team") && $0.contains("game") })
        #expect(!listed.stdout.contains(key))

        let revoked = try await admin.run("keys", "revoke", keyId)
        #expect(revoked.status == 0 && revoked.stdout == "revoked key \(keyId) (team)\n", "\(revoked.stdout)")
        let after = try await team.run("projects", "list")
        #expect(after.status == 1 && after.stderr.hasPrefix("Error: AuthFailure: "), "\(after.stderr)")
        let missing = try await admin.run("keys", "revoke", keyId)
        #expect(missing.status == 1 && missing.stderr.hasPrefix("Error: ResourceNotFound.Key: "), "\(missing.stderr)")

        // `tether audit`: the changes above, oldest first, never a key; paged with --after; admin keys only.
        let audit = try await admin.run("audit")
        #expect(audit.status == 0, "\(audit.stderr)")
        let rows = audit.stdout.split(separator: "\n")
        #expect(rows.first?.hasPrefix("ID") == true && rows.count == 5, "\(audit.stdout)")
        let actions = rows.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true)[3] }
        #expect(actions == ["project.create", "project.create", "key.create", "key.revoke"], "\(audit.stdout)")
        #expect(rows.last?.contains(keyId) == true && rows.last?.contains("127.0.0.1") == true)
        #expect(!audit.stdout.contains(key))
        let page = try await admin.run("audit", "--after", "2", "--json").json()
        #expect((page["records"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [3, 4])
        #expect(page["nextCursor"] as? Int == 4)
        #expect(try await admin.run("audit", "--limit", "0").status == 64)
    }

    /// `tether keys create --car` prints the CAR key pair; `keys list --json` shows its SecretId, never its secret.
    @Test func aCARKeyPairIsPrintedOnce() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        let admin = CLI(url: "http://127.0.0.1:\(server.apiPort)", apiKey: SDKServer.key)
        let created = try await admin.run("keys", "create", "car-backend", "--car")
        #expect(created.status == 0, "\(created.stderr)")
        let lines = created.stdout.split(separator: "\n")
        let secretId = try #require(lines.first { $0.hasPrefix("secretId ") }?.split(separator: " ").last)
        let secretKey = try #require(lines.first { $0.hasPrefix("secretKey ") }?.split(separator: " ").last)
        #expect(secretId.hasPrefix("AKID") && secretId.count == 36 && secretKey.count == 32, "\(created.stdout)")
        let listed = try await admin.run("keys", "list", "--json")
        #expect(listed.stdout.contains(String(secretId)) && !listed.stdout.contains(String(secretKey)))
        let plain = try await admin.run("keys", "create", "plain")
        #expect(!plain.stdout.contains("secretId"), "\(plain.stdout)")
    }
}
