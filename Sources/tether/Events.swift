import ArgumentParser

/// `tether events`: being built (issue 5/7); replaced by the real command.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not built yet.")
    func run() async throws { throw ValidationError("tether events is not built yet") }
}
