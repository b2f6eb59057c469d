import ArgumentParser
import Foundation
import TetherClient
import TetherProtocol

/// `tether secrets`: the keys that sign client and queue tokens (admin keys only).
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets", abstract: "List and rotate the keys that sign client tokens (needs an admin key).",
        subcommands: [List.self, Rotate.self])

    /// `tether secrets list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the token signing keys (never a secret).")
        @OptionGroup var options: BackendOptions

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                if options.json { return Output.raw(try await backend.data(for: .secrets)) }
                SecretsCommand.print(try await backend.send(.secrets))
            }
        }
    }

    /// `tether secrets rotate [--retire-old-after-ms N]`.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign new tokens with a new key; the old one verifies until the longest token life is over.")
        @OptionGroup var options: BackendOptions
        @Option(
            name: .customLong("retire-old-after-ms"),
            help: "How long the old key keeps verifying (default 7 days, the longest a token lives; 0: at once).")
        var retireOldAfterMs: Int64?

        func run() async throws {
            try await runBackendCommand {
                let backend = try options.backend()
                let request = BackendRequest.rotateSecrets(retireOldAfterMs: retireOldAfterMs)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                SecretsCommand.print(try await backend.send(request))
            }
        }
    }

    static func print(_ list: TetherBackend.SigningKeyList) {
        var table = Table(headers: ["KID", "CREATED", "RETIRES", "SIGNING"])
        for key in list.keys {
            table.rows.append([
                key.kid, Keys.List.time(key.createdAt), key.retiresAt.map(Keys.List.time) ?? "-",
                key.signing ? "yes" : "",
            ])
        }
        table.print()
    }
}
