import ArgumentParser

/// The `tether` command: `serve` now; `sim`, `bench` and the backend commands come with later issues.
@main
struct Tether: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tether",
        abstract: "A session broker: concurrency slots, heartbeats, grace windows and resumable sessions.",
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self)
}
