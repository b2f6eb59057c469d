import ArgumentParser
import TetherClient
import TetherProtocol

/// `tether count <project>`: DescribeConcurrentCount.
struct Count: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a project's pool by state (DescribeConcurrentCount).")
    @OptionGroup var options: BackendOptions
    @Argument(help: "The project's id.") var project: String

    func run() async throws {
        try await runBackendCommand {
            let backend = try options.backend()
            let request = BackendRequest.count(project: project)
            if options.json { return Output.raw(try await backend.data(for: request)) }
            let c = try await backend.send(request)
            Table(
                headers: ["TOTAL", "IDLE", "RESERVED", "RUNNING", "CREATED", "CONNECTED", "SUSPENDED", "GRACE"],
                rows: [
                    [c.total, c.idle, c.reserved, c.running, c.created ?? 0, c.connected, c.suspended, c.grace].map {
                        String($0)
                    }
                ]
            ).print()
        }
    }
}
