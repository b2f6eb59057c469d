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
    @Flag(help: "When the pool is full, wait in the project's queue (its place is printed) instead of failing.")
    var queue = false
    @Option(help: "With --queue: 0–9, higher first (default 0).") var priority: Int?

    func validate() throws {
        if priority != nil && !queue { throw ValidationError("--priority needs --queue") }
    }

    func run() async throws {
        try await runBackendCommand {
            let backend = try options.backend()
            if queue {
                let request = BackendRequest.applyQueued(
                    project: project, userId: user, userIp: userIp, priority: priority)
                if options.json { return Output.raw(try await backend.data(for: request)) }
                switch try await backend.send(request) {
                case .applied(let applied):
                    Table(
                        headers: ["CONCURRENCY", "REUSED", "RESERVED UNTIL"],
                        rows: [[applied.concurrencyId, String(applied.reused), Output.time(applied.reservedUntil)]]
                    ).print()
                case .queued(let queued):
                    Output.line(
                        Table.fields([
                            ("queued", "true"), ("ticketId", queued.ticketId), ("position", String(queued.position)),
                            ("etaMs", String(queued.etaMs)), ("queueToken", queued.queueToken),
                        ]))
                }
                return
            }
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
