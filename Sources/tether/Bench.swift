import ArgumentParser

/// `tether bench`: being built (issue 5/7); replaced by the real command.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not built yet.")
    func run() async throws { throw ValidationError("tether bench is not built yet") }
}
