import ArgumentParser

/// `tether count`: being built (issue 5/7); replaced by the real command.
struct Count: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not built yet.")
    func run() async throws { throw ValidationError("tether count is not built yet") }
}
