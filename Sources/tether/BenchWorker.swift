import ArgumentParser
import TetherBench

/// `tether bench-worker --config <json>` (hidden): one load process of `tether bench`; see
/// ``BenchWorkerRunner`` (TetherBench).
struct BenchWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-worker", abstract: "A load process of `tether bench` (internal).", shouldDisplay: false)

    @Option(help: "The worker's settings (JSON).") var config: String

    func run() async throws { try await BenchWorkerRunner.run(config: config) }
}
