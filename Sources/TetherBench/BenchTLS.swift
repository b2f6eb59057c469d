import Foundation
import NIOSSL
import TetherClient

/// `tether bench --tls`: the servers serve a self-signed certificate the run makes (P-256, with `openssl`),
/// and every load client, backend API connection and event reader speaks TLS to them, trusting only it.
struct BenchTLS: Sendable {
    /// The certificate (PEM), which the clients also take as their CA.
    let certificatePath: String
    /// Its private key (PEM).
    let keyPath: String

    /// Makes the certificate in `directory`.
    static func make(in directory: String) throws -> BenchTLS {
        let tls = BenchTLS(certificatePath: "\(directory)/tls-cert.pem", keyPath: "\(directory)/tls-key.pem")
        _ = try BenchProc.script(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '\(tls.keyPath)'"
                + " -out '\(tls.certificatePath)' -days 1 -subj /CN=localhost"
                + " -addext subjectAltName=DNS:localhost,IP:127.0.0.1")
        return tls
    }

    /// The `serve` arguments.
    var serveArguments: [String] { ["--tls-cert", certificatePath, "--tls-key", keyPath] }

    /// A client context trusting only `caFile` (the SDK's, TLS 1.2 and up); built once per process and shared by
    /// its connections.
    static func clientContext(caFile: String) throws -> NIOSSLContext {
        try TetherTLS.trusting(caFile: caFile).sslContext()
    }
}
