import ArgumentParser
import Foundation
import TetherClient
import TetherProtocol

/// `tether audit`: the audit trail of the backend API's changes (admin keys only).
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the audit trail: every change made through the backend API (needs an admin key).")
    @OptionGroup var options: BackendOptions
    @Option(help: "Only records after this id (the last id printed, to go on from there).") var after: Int64 = 0
    @Option(help: "The most records to print (1 to 1000).") var limit: Int = 100

    func validate() throws {
        guard after >= 0 else { throw ValidationError("--after must be 0 or more") }
        guard (1...1_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
    }

    func run() async throws {
        try await runBackendCommand {
            let backend = try options.backend()
            let request = BackendRequest.audit(after: after, limit: limit)
            if options.json { return Output.raw(try await backend.data(for: request)) }
            var table = Table(headers: ["ID", "AT", "KEY ID", "ACTION", "TARGET", "SOURCE", "REQUEST ID"])
            for r in try await backend.send(request).records {
                table.rows.append([
                    String(r.id), Keys.List.time(r.at), r.keyId, r.action, r.target, r.sourceIp, r.requestId,
                ])
            }
            table.print()
        }
    }
}
