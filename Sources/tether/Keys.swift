import ArgumentParser
import Foundation
import TetherClient
import TetherProtocol

/// `tether keys`: the backend API's keys (admin keys only).
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API keys (needs an admin key).",
        subcommands: [Create.self, List.self, Revoke.self])

    /// `tether keys create <name> [--project ID ...]`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key and print it (shown this once; the server keeps only its hash).")
        @OptionGroup var options: BackendOptions
        @Argument(help: "A name for people.") var name: String
        @Option(
            name: .customLong("project"),
            help: "A project the key sees and changes (repeat it); without one, an admin key.")
        var projects: [String] = []
        @Option(
            name: .customLong("expires-in-hours"), help: "Refuse the key from this many hours on (default: never).")
        var expiresInHours: Int?
        @Flag(help: "Also make a CAR key pair (SecretId, SecretKey) for the CAR-compatible endpoint, POST /.")
        var car = false

        func validate() throws {
            if let hours = expiresInHours, hours < 1 { throw ValidationError("--expires-in-hours must be at least 1") }
        }

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.createKey(
                    name: name, projects: projects.isEmpty ? nil : projects,
                    expiresInMs: expiresInHours.map { Int64($0) * 3_600_000 }, car: car)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                let key = try await backend.send(request)
                Output.line(
                    Table.fields(
                        [
                            ("key", key.key), ("keyId", key.keyId), ("name", key.name),
                            ("projects", key.projects?.joined(separator: ",") ?? "(admin)"),
                            ("expires", key.expiresAt.map(List.time) ?? "never"),
                        ] + (key.secretId.map { [("secretId", $0), ("secretKey", key.secretKey ?? "")] } ?? [])))
            }
        }
    }

    /// `tether keys list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys (never the keys themselves).")
        @OptionGroup var options: BackendOptions

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                if options.json { return Output.raw(try await backend.data(for: .keys)) }
                var table = Table(headers: ["KEY ID", "NAME", "PROJECTS", "CREATED", "LAST USED", "EXPIRES"])
                for key in try await backend.send(.keys).keys {
                    table.rows.append([
                        key.keyId, key.name, key.projects?.joined(separator: ",") ?? "(admin)",
                        Self.time(key.createdAt),
                        key.lastUsedAt.map(Self.time) ?? "-", key.expiresAt.map(Self.time) ?? "never",
                    ])
                }
                table.print()
            }
        }

        static func time(_ ms: Int64) -> String {
            ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
        }
    }

    /// `tether keys revoke <keyId>`.
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: refused at once, on every node.")
        @OptionGroup var options: BackendOptions
        @Argument(help: "The key's id (ak-…).") var keyId: String

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.revokeKey(keyId)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                let key = try await backend.send(request)
                Output.line("revoked key \(key.keyId) (\(key.name))")
            }
        }
    }
}
