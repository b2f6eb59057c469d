import ArgumentParser

/// `tether sessions`: being built (issue 5/7); replaced by the real command.
struct Sessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not built yet.")
    func run() async throws { throw ValidationError("tether sessions is not built yet") }
}
