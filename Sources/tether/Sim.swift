import ArgumentParser

/// `tether sim`: being built (issue 5/7); replaced by the real command.
struct Sim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Not built yet.")
    func run() async throws { throw ValidationError("tether sim is not built yet") }
}
