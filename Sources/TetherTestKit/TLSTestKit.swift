import Foundation
import TetherClient

/// A self-signed certificate for `localhost` and `127.0.0.1` (P-256, one day), made by the `openssl` command
/// in a folder of its own: the server serves it and the clients trust it as their CA.
public struct TestCertificate: Sendable {
    /// The certificate (PEM).
    public let certificatePath: String
    /// Its private key (PEM).
    public let keyPath: String

    /// Makes one with subject `CN=<commonName>` in a new temporary folder, waiting for `openssl` off the
    /// cooperative pool (``offPool(_:)``).
    public static func make(commonName: String = "localhost") async throws -> TestCertificate {
        try await offPool { try TestCertificate(commonName: commonName) }
    }

    /// Makes one with subject `CN=<commonName>` in a new temporary folder (blocking: tests call ``make(commonName:)``).
    init(commonName: String = "localhost") throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tether-tls-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        certificatePath = folder.appendingPathComponent("cert.pem").path
        keyPath = folder.appendingPathComponent("key.pem").path
        let made = try ChildProcess.runBlocking(
            URL(fileURLWithPath: Self.openssl),
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                keyPath, "-out", certificatePath, "-days", "1", "-subj", "/CN=\(commonName)", "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        guard made.status == 0 else { throw CertificateError(output: made.output) }
    }

    /// `openssl` failed.
    public struct CertificateError: Error, CustomStringConvertible {
        public let output: String
        public var description: String { "openssl req failed: \(output)" }
    }

    /// Where the `openssl` command is.
    static var openssl: String {
        ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "/usr/bin/openssl"
    }

    /// Copies this certificate and key over `other`'s files (a renewal, as a certificate manager writes it).
    public func copy(over other: TestCertificate) throws {
        for (from, to) in [(certificatePath, other.certificatePath), (keyPath, other.keyPath)] {
            let data = try Data(contentsOf: URL(fileURLWithPath: from))
            try data.write(to: URL(fileURLWithPath: to), options: .atomic)
        }
    }

    /// The `serve` arguments that serve it.
    public var serveArguments: [String] { ["--tls-cert", certificatePath, "--tls-key", keyPath] }

    /// Clients' TLS that trusts only this certificate.
    public func trust() throws -> TetherTLS { try TetherTLS.trusting(caFile: certificatePath) }
}
