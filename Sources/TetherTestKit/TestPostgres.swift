import Foundation
import TetherStore

/// The PostgreSQL server the tests use: `scripts/test.sh` starts one (scripts/postgres.sh) and names it in
/// `TETHER_TEST_POSTGRES_URL`; each test makes a database of its own there and drops it at the end. A test that
/// needs PostgreSQL fails (it is never skipped) when the variable is not set.
public enum TestPostgres {
    /// The variable that names the server.
    public static let variable = "TETHER_TEST_POSTGRES_URL"

    /// The server's URL (`postgres://USER@HOST:PORT/DATABASE`, trust authentication, no TLS).
    public static func serverURL() throws -> URLComponents {
        guard let text = ProcessInfo.processInfo.environment[variable], let url = URLComponents(string: text),
            url.host != nil, url.user != nil
        else {
            throw Missing(
                description:
                    "\(variable) is not set: run scripts/test.sh, which starts PostgreSQL (or scripts/postgres.sh start DIR)"
            )
        }
        return url
    }

    /// No test server is named.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs one statement on the server's own database, or on `database`.
    public static func execute(_ sql: String, database: String? = nil) async throws {
        var server = try serverURL()
        if let database { server.path = "/" + database }
        try await PostgresDatabases.execute(sql, on: server)
    }

    /// Creates an empty database and returns its URL (with `sslmode=disable`).
    public static func createDatabase() async throws -> String {
        let server = try serverURL()
        let made = try await PostgresDatabases.create(prefix: "tether_test_", on: server.string ?? "")
        guard var url = URLComponents(string: made) else { return made }
        url.query = "sslmode=disable"
        return url.string ?? made
    }

    /// The database a URL from ``createDatabase()`` names.
    public static func databaseName(_ url: String) -> String? {
        URLComponents(string: url).map { String($0.path.dropFirst()) }
    }

    /// Drops a database made by ``createDatabase()``, closing its connections first.
    public static func dropDatabase(_ url: String) async {
        await PostgresDatabases.drop(url, prefix: "tether_test_")
    }
}

/// A PostgreSQL server of a test's own (scripts/postgres.sh in a temporary folder), for the faults a shared
/// server cannot take: a database that goes away while nodes run, and comes back on the same port.
public final class OwnPostgres: @unchecked Sendable {
    /// Its folder.
    public let directory: String
    /// Its URL (`postgres://tether@127.0.0.1:PORT/postgres`).
    public private(set) var url = ""

    /// The package's scripts/postgres.sh.
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/postgres.sh").path
    }

    /// Starts a new server, waiting for it off the cooperative pool (``offPool(_:)``).
    public static func start() async throws -> OwnPostgres {
        try await offPool { try OwnPostgres() }
    }

    /// Starts a new server (blocking: tests call ``start()``).
    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tether-own-pg-\(UUID())").path
        url = try Self.run("start", directory)
    }

    /// Stops the server (a database gone away), waiting off the cooperative pool.
    public func stop() async throws { _ = try await offPool { try Self.run("stop", self.directory) } }

    /// Starts it again on the same port, waiting off the cooperative pool.
    public func resume() async throws { url = try await offPool { try Self.run("resume", self.directory) } }

    /// Stops it and removes its folder.
    public func remove() {
        _ = try? Self.run("stop", directory)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs the script through posix_spawn and waitpid: Foundation's `Process.waitUntilExit` never returns when
    /// a grandchild (the PostgreSQL server the script starts) outlives the child.
    static func run(_ command: String, _ directory: String) throws -> String {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tether-pg-out-\(UUID())").path
        let err = out + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        let line = "bash '\(script)' \(command) '\(directory)' > '\(out)' 2> '\(err)' < /dev/null"
        var pid: pid_t = 0
        let arguments = ["/bin/bash", "-c", line]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        guard posix_spawn(&pid, "/bin/bash", nil, nil, &argv, environ) == 0 else {
            throw TestPostgres.Missing(description: "cannot run scripts/postgres.sh")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard status == 0 else {
            // What the script and the server said: a failure on a loaded machine must say why.
            let said = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
            throw TestPostgres.Missing(
                description:
                    "scripts/postgres.sh \(command) failed (\(status)): \(said.suffix(1_000)) server log: \(log.suffix(1_000))"
            )
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
