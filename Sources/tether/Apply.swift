import ArgumentParser
import TetherClient
import TetherProtocol

/// `tether apply <project> <user>`: ApplyConcurrent.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reserve a concurrency for a user (ApplyConcurrent), until a session is created or it lapses.")
    @OptionGroup var options: BackendOptions
    @Argument(help: "The project's id.") var project: String
    @Argument(help: "The user's id.") var user: String
    @Option(name: .customLong("user-ip"), help: "The user's IP address, as the backend saw it.") var userIp: String?

    func run() async throws {
        try await runBackendCommand {
            let backend = try options.backend()
            let request = BackendRequest.apply(project: project, userId: user, userIp: userIp)
            if options.json { return Output.raw(try await backend.data(for: request)) }
            let applied = try await backend.send(request)
            Table(
                headers: ["CONCURRENCY", "REUSED", "RESERVED UNTIL"],
                rows: [[applied.concurrencyId, String(applied.reused), Output.time(applied.reservedUntil)]]
            ).print()
        }
    }
}
