import ArgumentParser

/// `tether projects`: being built (issue 5/7); replaced by the real command.
struct Projects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not built yet.")
    func run() async throws { throw ValidationError("tether projects is not built yet") }
}
