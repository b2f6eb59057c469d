import ArgumentParser

/// The `tether` command: `serve`, the backend commands (etcdctl style), `sim` and `bench`.
@main
struct Tether: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tether",
        abstract: "A session broker: concurrency slots, heartbeats, grace windows and resumable sessions.",
        subcommands: [
            Serve.self, Projects.self, Keys.self, Audit.self, SecretsCommand.self, Apply.self, Queue.self,
            Sessions.self, Count.self,
            Events.self,
            StoreCommand.self,
            Sim.self,
            Bench.self,
            BenchWorker.self,
        ],
        defaultSubcommand: Serve.self)
}
