import ArgumentParser

/// `tether apply`: being built (issue 5/7); replaced by the real command.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not built yet.")
    func run() async throws { throw ValidationError("tether apply is not built yet") }
}
