import Testing
import TetherStore

/// `--store` values: `sqlite:PATH` and libpq-style `postgres://` URLs, parsed strictly.
@Suite struct StoreLocationTests {
    @Test func sqlitePaths() throws {
        #expect(try StoreLocation("sqlite:./tether.sqlite") == .sqlite(path: "./tether.sqlite"))
        #expect(try StoreLocation("sqlite:/var/lib/t.db") == .sqlite(path: "/var/lib/t.db"))
        #expect(throws: StoreError.self) { try StoreLocation("sqlite:") }
    }

    @Test func postgresURLs() throws {
        let full = try PostgresURL("postgres://alice:s%40cret@db.example:6543/tether?sslmode=require")
        #expect(full.username == "alice")
        #expect(full.password == "s@cret")
        #expect(full.host == "db.example")
        #expect(full.port == 6543)
        #expect(full.database == "tether")
        #expect(full.sslMode == .require)
        #expect(full.description == "postgres://alice@db.example:6543/tether?sslmode=require")

        let short = try PostgresURL("postgresql://bob@127.0.0.1/d")
        #expect(short.port == 5432)
        #expect(short.password == nil)
        #expect(short.sslMode == .prefer)
        #expect(try PostgresURL("postgres://u@[::1]:5433/d?sslmode=verify-full").host == "::1")
        #expect(try StoreLocation("postgres://u@h/d") == .postgres(try PostgresURL("postgres://u@h/d")))
    }

    @Test(arguments: [
        "mysql://u@h/d", "postgres://h/d", "postgres://u@/d", "postgres://u@h", "postgres://u@h/",
        "postgres://u@h/d/e", "postgres://u@h:0/d", "postgres://u@h:70000/d", "postgres://u@h/d?sslmode=maybe",
        "postgres://u@h/d?application_name=x", "postgres://u@h/d?sslmode", "tether.sqlite", "", "sqlite",
    ])
    func badLocationsAreRefused(text: String) {
        #expect(throws: StoreError.self) { try StoreLocation(text) }
    }

    /// The password never shows in what is logged.
    @Test func thePasswordIsLeftOutOfDescriptions() throws {
        let location = try StoreLocation("postgres://u:hunter2@h:1/d")
        #expect(!location.description.contains("hunter2"))
        #expect(!"\(StoreError.unreachable(location.description))".contains("hunter2"))
    }
}
