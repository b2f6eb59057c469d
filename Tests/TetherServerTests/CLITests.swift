import Foundation
import Testing
import TetherTestKit

/// The `tether` backend commands, run as a process against a real `tether serve`.
@Suite struct CLITests {
    /// A server and a CLI pointed at it through the environment.
    func setUp() async throws -> (SDKServer, CLI) {
        let server = try await SDKServer.start()
        return (server, CLI(url: "http://127.0.0.1:\(server.apiPort)", apiKey: SDKServer.key))
    }

    @Test func projectsCreateListGetUpdateDelete() async throws {
        let (server, cli) = try await setUp()
        defer { server.stop() }
        let created = try await cli.run(
            "projects", "create", "demo", "--capacity", "2", "--heartbeat-interval-ms", "1000",
            "--heartbeat-timeout-ms", "3000", "--grace-ms", "5000", "--webhook-url", "http://127.0.0.1:9/hook",
            "--webhook-secret", "s3cret")
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("capacity              2"), "\(created.stdout)")
        #expect(!created.stdout.contains("s3cret"))

        let listed = try await cli.run("projects", "list")
        #expect(listed.status == 0)
        let lines = listed.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ID    NAME  CAPACITY  INTERVAL  TIMEOUT  GRACE") == true, "\(listed.stdout)")
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("demo  demo  2         1s        3s       5s") == true, "\(listed.stdout)")

        let listJSON = try await cli.run("projects", "list", "--json").json()
        let projects = try #require(listJSON["projects"] as? [[String: Any]])
        #expect(projects.map { $0["id"] as? String } == ["demo"])

        let updated = try await cli.run("projects", "update", "demo", "--capacity", "5", "--grace-ms", "0", "--json")
        #expect(updated.status == 0, "\(updated.stderr)")
        let got = try await cli.run("projects", "get", "demo", "--json").json()
        #expect(got["capacity"] as? Int == 5)
        #expect(got["reconnectGraceMs"] as? Int == 0)
        #expect((got["heartbeat"] as? [String: Any])?["intervalMs"] as? Int == 1_000)
        #expect((got["webhook"] as? [String: Any])?["url"] as? String == "http://127.0.0.1:9/hook")

        let unhooked = try await cli.run("projects", "update", "demo", "--remove-webhook", "--json").json()
        #expect(unhooked["webhook"] == nil)

        // Allowed origins: set (repeatable), shown, and cleared with --any-origin.
        let origins = try await cli.run(
            "projects", "update", "demo", "--allowed-origin", "https://app.example.com", "--allowed-origin",
            "http://localhost:3000")
        #expect(origins.status == 0, "\(origins.stderr)")
        #expect(
            origins.stdout.contains("allowedOrigins        https://app.example.com http://localhost:3000"),
            "\(origins.stdout)")
        let badOrigin = try await cli.run("projects", "update", "demo", "--allowed-origin", "https://x.example/path")
        #expect(badOrigin.status == 1 && badOrigin.stderr.contains("allowedOrigins[0]"), "\(badOrigin.stderr)")
        let anyOrigin = try await cli.run("projects", "update", "demo", "--any-origin", "--json").json()
        #expect(anyOrigin["allowedOrigins"] == nil)

        let deleted = try await cli.run("projects", "delete", "demo")
        #expect(deleted.status == 0)
        #expect(deleted.stdout == "deleted project demo\n")
        let gone = try await cli.run("projects", "get", "demo")
        #expect(gone.status == 1)
        #expect(gone.stderr.hasPrefix("Error: ResourceNotFound.Project: "), "\(gone.stderr)")
        #expect(gone.stdout.isEmpty)
    }

    /// This test, the next and `followPrintsEveryEventOnceAcrossARestart` keep reservations for 10 minutes: a
    /// CLI process can take seconds to start on a loaded machine, and a fresh-clone CI run saw the default
    /// 30 s lapse between an apply and what followed it (as in `eventsListAndFollow`).
    @Test func applyCreateCountListGetDestroy() async throws {
        let (server, cli) = try await setUp()
        defer { server.stop() }
        #expect(
            try await cli.run("projects", "create", "p", "--capacity", "2", "--reservation-ttl-ms", "600000").status
                == 0)
        let applied = try await cli.run("apply", "p", "alice", "--json").json()
        #expect(applied["concurrencyId"] as? String == "cc-p-1")
        #expect(applied["reused"] as? Bool == false)
        let created = try await cli.run("sessions", "create", "p", "alice", "--run-mode", "demo", "--json").json()
        let sessionId = try #require(created["sessionId"] as? String)
        #expect((created["clientToken"] as? String)?.isEmpty == false)
        #expect((created["connect"] as? [String: Any])?["websocket"] as? String != nil)

        let count = try await cli.run("count", "p", "--json").json()
        #expect(count["running"] as? Int == 1)
        #expect(count["idle"] as? Int == 1)
        #expect(count["created"] as? Int == 1)
        let table = try await cli.run("count", "p")
        #expect(
            table.stdout
                == "TOTAL  IDLE  RESERVED  RUNNING  CREATED  CONNECTED  SUSPENDED  GRACE\n2      1     0         1        1        0          0          0\n"
        )

        let list = try await cli.run("sessions", "list", "p", "--json").json()
        #expect((list["sessions"] as? [[String: Any]])?.compactMap { $0["sessionId"] as? String } == [sessionId])
        let shown = try await cli.run("sessions", "get", sessionId)
        #expect(shown.status == 0)
        let fields = shown.stdout.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true)
        }
        #expect(fields.contains(["state", "created"]), "\(shown.stdout)")
        #expect(shown.stdout.contains("session.created"))

        let destroyed = try await cli.run("sessions", "destroy", sessionId, "--json").json()
        #expect(destroyed["state"] as? String == "ended")
        #expect(destroyed["endReason"] as? String == "destroyed")
        #expect(try await cli.run("count", "p", "--json").json()["idle"] as? Int == 2)

        // By user.
        #expect(try await cli.run("apply", "p", "bob").status == 0)
        #expect(try await cli.run("sessions", "create", "p", "bob").status == 0)
        let byUser = try await cli.run("sessions", "destroy", "--project", "p", "--user", "bob")
        #expect(byUser.status == 0, "\(byUser.stderr)")
        #expect(byUser.stdout.hasPrefix("destroyed session s-"))
        let ended = try await cli.run("sessions", "list", "p", "--state", "ended", "--json").json()
        #expect((ended["sessions"] as? [Any])?.count == 2)
    }

    @Test func errorsPrintTheirCodeAndExitNonZero() async throws {
        let (server, cli) = try await setUp()
        defer { server.stop() }
        #expect(
            try await cli.run("projects", "create", "p", "--capacity", "1", "--reservation-ttl-ms", "600000").status
                == 0)
        #expect(try await cli.run("apply", "p", "a").status == 0)
        let noIdle = try await cli.run("apply", "p", "b")
        #expect(noIdle.status == 1)
        #expect(noIdle.stderr.hasPrefix("Error: ResourceNotFound.NoIdle: "), "\(noIdle.stderr)")

        let invalid = try await cli.run("projects", "create", "q", "--heartbeat-interval-ms", "1")
        #expect(invalid.status == 1)
        #expect(invalid.stderr.hasPrefix("Error: InvalidParameterValue: heartbeat.intervalMs"), "\(invalid.stderr)")

        let taken = try await cli.run("projects", "create", "p")
        #expect(taken.stderr.hasPrefix("Error: ResourceInUse.Project: "), "\(taken.stderr)")

        let noLock = try await cli.run("sessions", "create", "p", "nobody")
        #expect(noLock.status == 1)
        #expect(noLock.stderr.hasPrefix("Error: FailedOperation.LockTimeout: "), "\(noLock.stderr)")

        var badKey = cli
        badKey.apiKey = "wrong"
        let denied = try await badKey.run("projects", "list")
        #expect(denied.status == 1)
        #expect(denied.stderr.hasPrefix("Error: AuthFailure: "), "\(denied.stderr)")

        // A webhook needs both its URL and its secret (the SDK's body type requires both, as the contract does).
        let noSecret = try await cli.run("projects", "create", "r", "--webhook-url", "http://127.0.0.1:9/hook")
        #expect(noSecret.status == 64)
        #expect(noSecret.stderr.contains("--webhook-url needs --webhook-secret"), "\(noSecret.stderr)")

        let usage = try await cli.run("sessions", "destroy")
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("give a session id, or both --project and --user"))

        let unreachable = try await cli.run("projects", "list", "--url", "http://127.0.0.1:\(ServeProcess.freePort())")
        #expect(unreachable.status == 2)
        #expect(unreachable.stderr.hasPrefix("Error: Unreachable: "), "\(unreachable.stderr)")
    }

    @Test func flagsOverrideTheEnvironment() async throws {
        let (server, cli) = try await setUp()
        defer { server.stop() }
        // The environment alone.
        #expect(try await cli.run("projects", "list", "--json").json()["projects"] as? [Any] != nil)
        // No environment: the flags alone.
        let bare = CLI(url: nil, apiKey: nil)
        let flagged = try await bare.run(
            "projects", "list", "--url", "http://127.0.0.1:\(server.apiPort)", "--api-key", SDKServer.key, "--json")
        #expect(flagged.status == 0, "\(flagged.stderr)")
        // A wrong environment, corrected by the flags.
        let wrong = CLI(url: "http://127.0.0.1:1", apiKey: "wrong")
        let fixed = try await wrong.run(
            "count", "nope", "--url", "http://127.0.0.1:\(server.apiPort)", "--api-key", SDKServer.key)
        #expect(fixed.stderr.hasPrefix("Error: ResourceNotFound.Project: "), "\(fixed.stderr)")
        // No key at all.
        let keyless = CLI(url: "http://127.0.0.1:\(server.apiPort)", apiKey: nil)
        #expect(try await keyless.run("projects", "list").stderr.hasPrefix("Error: AuthFailure: "))
    }

    @Test func eventsListAndFollow() async throws {
        let (server, cli) = try await setUp()
        defer { server.stop() }
        // A reservation that outlives a busy machine: three CLI processes start between the apply and the
        // create (a fresh-clone CI run once took over 30 s, the default, and the reservation lapsed).
        #expect(try await cli.run("projects", "create", "p", "--reservation-ttl-ms", "600000").status == 0)
        #expect(try await cli.run("apply", "p", "alice").status == 0)
        let page = try await cli.run("events", "--project", "p", "--json").json()
        let events = try #require(page["events"] as? [[String: Any]])
        #expect(events.map { $0["type"] as? String } == ["concurrency.reserved"])
        let cursor = try #require(page["nextCursor"] as? Int)

        let follow = try cli.start(["events", "--follow", "--json", "--project", "p", "--after", "\(cursor)"])
        defer { follow.cancel() }
        #expect(try await cli.run("sessions", "create", "p", "alice").status == 0)
        #expect(try await cli.run("sessions", "destroy", "--project", "p", "--user", "alice").status == 0)
        let seen = await eventually(within: .seconds(10)) {
            follow.stdout.split(separator: "\n").count >= 3
        }
        #expect(seen, "follow printed: \(follow.stdout)")
        let types = follow.stdout.split(separator: "\n").compactMap { line -> String? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["type"] as? String
        }
        #expect(Array(types.prefix(3)) == ["session.created", "session.ended", "concurrency.released"])

        let table = try await cli.run("events", "--project", "p")
        #expect(table.stdout.hasPrefix("CURSOR  AT"), "\(table.stdout)")
        #expect(table.stdout.contains("reason=destroyed"))
    }
}

extension CLITests {
    @Test func followPrintsEveryEventOnceAcrossARestart() async throws {
        let (server, cli) = try await setUp()
        defer { server.stop() }
        #expect(try await cli.run("projects", "create", "p", "--reservation-ttl-ms", "600000").status == 0)
        let follow = try cli.start(["events", "--follow", "--json", "--project", "p"])
        defer { follow.cancel() }
        func cursors() -> [Int] {
            follow.stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["cursor"] as? Int
            }
        }
        #expect(try await cli.run("apply", "p", "alice").status == 0)
        #expect(try await cli.run("sessions", "create", "p", "alice").status == 0)
        #expect(await eventually(within: .seconds(10)) { cursors().count >= 2 }, "\(follow.stdout)")

        _ = await server.process.terminate()
        try await server.restart()
        #expect(try await cli.run("sessions", "destroy", "--project", "p", "--user", "alice").status == 0)
        #expect(try await cli.run("apply", "p", "bob").status == 0)

        let listed = try await cli.run("events", "--project", "p", "--limit", "1000", "--json").json()
        let all = try #require(listed["events"] as? [[String: Any]]).compactMap { $0["cursor"] as? Int }
        #expect(all.count >= 5)
        let caughtUp = await eventually(within: .seconds(20)) { cursors().count >= all.count }
        #expect(caughtUp, "follow printed: \(follow.stdout)")
        #expect(cursors() == all, "every event once, in order")
    }
}

/// `--url` and `TETHER_URL` with several nodes: a node that cannot be reached gives way to the next.
@Suite struct CLISeveralURLsTests {
    @Test func aDeadFirstURLGivesWayToTheNextForReadsAndWrites() async throws {
        let server = try await SDKServer.start()
        defer { server.stop() }
        // Bound and never listening for the whole test: a port that was merely free a moment ago was taken by
        // another test's server in a fresh-clone CI run, and the CLI got that server's 401 instead of a refusal.
        let refusing = RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let dead = "http://127.0.0.1:\(refusing.port)"
        let live = "http://127.0.0.1:\(server.apiPort)"
        let cli = CLI(url: "\(dead),\(live)", apiKey: SDKServer.key)
        let created = try await cli.run("projects", "create", "p", "--capacity", "2", "--json")
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try await cli.run("apply", "p", "alice", "--json").json()["concurrencyId"] as? String == "cc-p-1")
        // The flag wins over the environment, spaces around the commas are allowed.
        let listed = try await CLI(apiKey: SDKServer.key).run(
            "projects", "list", "--json", "--url", "\(dead) , \(live)")
        #expect((try listed.json()["projects"] as? [[String: Any]])?.count == 1, "\(listed.stderr)")
        // Only dead nodes: exit 2, unreachable.
        let none = try await CLI(url: "\(dead),\(dead)", apiKey: SDKServer.key).run("projects", "list")
        #expect(none.status == 2)
        #expect(none.stderr.hasPrefix("Error: Unreachable: "), "\(none.stderr)")
    }

    @Test(arguments: ["http://a:1,", "http://a:1,ftp://b:2", ",http://a:1", "http://a:1,,http://b:2"])
    func aListWithAnythingButHTTPURLsIsAUsageError(url: String) async throws {
        let result = try await CLI(url: url, apiKey: "k").run("projects", "list")
        #expect(result.status == 64, "\(url): \(result.stderr)")
        #expect(result.stderr.contains("--url must be http:// or https:// URLs"), "\(result.stderr)")
    }
}
