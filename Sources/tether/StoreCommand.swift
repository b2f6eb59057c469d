import ArgumentParser
import Foundation
import Logging
import TetherStore

/// `tether store copy SRC DST`: moves an embedded deployment into PostgreSQL.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Work on a store directly (the server stopped).", subcommands: [Copy.self])

    /// `tether store copy sqlite:PATH postgres://…`.
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Copy everything of an embedded store (projects, sessions, reservations, events with their cursors, keys) into an empty PostgreSQL database."
        )
        @Argument(help: "The embedded store: sqlite:PATH (or a path).") var source: String
        @Argument(help: "The PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…].")
        var destination: String

        func run() async throws {
            let from: StoreLocation
            let to: StoreLocation
            do {
                from = try StoreLocation(
                    source.hasPrefix("sqlite:") || source.contains("://") ? source : "sqlite:\(source)")
                to = try StoreLocation(destination)
            } catch {
                throw ValidationError("\(error)")
            }
            guard case .sqlite(let path) = from else {
                throw ValidationError("SRC must be an embedded store (sqlite:PATH)")
            }
            guard case .postgres(let url) = to else { throw ValidationError("DST must be a postgres:// URL") }
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("\(path): no such file")
            }
            var logger = Logger(label: "tether.store")
            logger.logLevel = .warning
            let sqlite = try SQLiteStore(path: path)
            let postgres: PostgresStore
            do {
                postgres = try await PostgresStore.open(url, logger: logger)
            } catch {
                try? await sqlite.close()
                throw error
            }
            do {
                let counts = try await StoreCopy.copy(from: sqlite, to: postgres)
                print("copied \(counts) from \(path) to \(url)")
            } catch {
                try? await postgres.close()
                try? await sqlite.close()
                throw error
            }
            try await postgres.close()
            try await sqlite.close()
        }
    }
}
