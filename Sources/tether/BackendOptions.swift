import ArgumentParser
import Foundation
import TetherClient

/// The options every backend command takes: where the API is, the key, and the output format.
struct BackendOptions: ParsableArguments {
    @Option(
        help:
            "Backend API URL, or several separated by commas (the nodes of a cluster, tried in order when one cannot be reached; env TETHER_URL; default http://127.0.0.1:8080)."
    )
    var url: String?

    @Option(name: .customLong("api-key"), help: "Backend API key (env TETHER_API_KEY).")
    var apiKey: String?

    @Option(
        name: .customLong("ca-file"),
        help:
            "Trust only the CA certificates in this PEM file for https:// (a private CA or a self-signed server; env TETHER_CA_FILE)."
    )
    var caFile: String?

    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    @Option(help: "Give up on a request after this many seconds, connecting included (env TETHER_TIMEOUT; default 30).")
    var timeout: Double?

    /// The backend client the options describe.
    func backend() throws -> TetherBackend {
        let env = ProcessInfo.processInfo.environment
        let raw = url ?? env["TETHER_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8080"
        let parsed = try Self.urls(raw)
        let key = apiKey ?? env["TETHER_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let seconds =
            try timeout ?? env["TETHER_TIMEOUT"].map { raw in
                guard let value = Double(raw) else {
                    throw ValidationError("TETHER_TIMEOUT must be a number, got '\(raw)'")
                }
                return value
            } ?? 30
        guard seconds > 0, seconds <= 86_400 else {
            throw ValidationError("--timeout must be between 0 and 86400 seconds")
        }
        return TetherBackend(
            urls: parsed, apiKey: key, timeout: .milliseconds(Int64(seconds * 1_000)), tls: try Self.tls(caFile))
    }

    /// The TLS trust of `--ca-file` (or TETHER_CA_FILE); nil: the system's, through URLSession.
    static func tls(_ flag: String?) throws -> TetherTLS? {
        let env = ProcessInfo.processInfo.environment
        guard let file = flag ?? env["TETHER_CA_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        do {
            return try TetherTLS.trusting(caFile: file)
        } catch {
            throw ValidationError("--ca-file: \(error)")
        }
    }

    /// The URLs of `--url`: one, or several separated by commas, each `http://` or `https://` with a host.
    static func urls(_ raw: String) throws -> [URL] {
        try raw.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let text = part.trimmingCharacters(in: .whitespaces)
            guard let parsed = URL(string: text), let scheme = parsed.scheme, ["http", "https"].contains(scheme),
                parsed.host != nil
            else {
                throw ValidationError("--url must be http:// or https:// URLs separated by commas, got '\(raw)'")
            }
            return parsed
        }
    }
}

/// Exit statuses of the backend commands (usage errors exit 64, ArgumentParser's `EX_USAGE`).
enum ExitStatus {
    /// The API answered an error.
    static let apiError: Int32 = 1
    /// The API could not be reached or answered something unexpected.
    static let unreachable: Int32 = 2
}

/// Runs a backend command: API errors print `Error: <code>: <message>` on stderr and exit 1; an unreachable
/// API exits 2.
func runBackendCommand(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as TetherAPIError {
        Output.error("Error: \(error.code): \(error.message)")
        throw ExitCode(ExitStatus.apiError)
    } catch let error as TetherTransportError {
        Output.error("Error: Unreachable: \(error.description)")
        throw ExitCode(ExitStatus.unreachable)
    }
}

/// Writing to the terminal.
enum Output {
    /// A line on stdout.
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// A line on stderr.
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// The API's JSON as it came.
    static func raw(_ data: Data) {
        var bytes = data
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        FileHandle.standardOutput.write(bytes)
    }

    /// Unix ms as an ISO 8601 UTC time with milliseconds.
    static func time(_ ms: Int64?) -> String {
        guard let ms else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1_000))
    }

    /// Milliseconds as a short duration (`1500ms`, `30s`, `5m`, `2h`).
    static func duration(_ ms: Int64) -> String {
        if ms != 0 && ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms != 0 && ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms != 0 && ms % 1_000 == 0 { return "\(ms / 1_000)s" }
        return "\(ms)ms"
    }
}
