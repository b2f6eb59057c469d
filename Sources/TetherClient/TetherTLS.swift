import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// How the SDK speaks TLS to `wss://` and `tls://` endpoints and, when given to ``TetherBackend``, to an
/// `https://` backend API: TLS 1.2 or 1.3, the server's certificate checked against the system's roots, or
/// against the certificates of a CA file (``trusting(caFile:)``).
///
/// ```swift
/// var configuration = TetherClientConfiguration()
/// configuration.tls = try .trusting(caFile: "/etc/tether/ca.pem")
/// ```
///
/// Long-lived: it builds its `NIOSSLContext` (which reads the trust roots from disk) once, on first use, and
/// every connection shares it.
public final class TetherTLS: Sendable {
    /// The TLS settings (swift-nio-ssl's).
    public let configuration: TLSConfiguration
    /// How long ``TetherBackend``'s connections stay open unused before this client closes them. Keep it below
    /// the server's `--http-idle-timeout-ms` (60 s by default): a connection the server closed while idle fails
    /// the next call sent on it (AsyncHTTPClient does not send a non-idempotent call again).
    public let idleTimeout: Duration
    private let context = NIOLockedValueBox<NIOSSLContext?>(nil)
    private let http = NIOLockedValueBox<HTTPClient?>(nil)

    /// Uses `configuration` as it is.
    public init(configuration: TLSConfiguration, idleTimeout: Duration = .seconds(30)) {
        self.configuration = configuration
        self.idleTimeout = idleTimeout
    }

    /// The system's trust roots, TLS 1.2 and up.
    public static let system: TetherTLS = TetherTLS(configuration: clientDefaults())

    /// Trusts only the certificates in `caFile` (PEM): a private CA, or a self-signed server certificate.
    public static func trusting(caFile: String, idleTimeout: Duration = .seconds(30)) throws -> TetherTLS {
        let roots: [NIOSSLCertificate]
        do {
            roots = try NIOSSLCertificate.fromPEMFile(caFile)
        } catch {
            throw TetherTransportError("cannot read the CA file \(caFile) as PEM: \(error)")
        }
        guard !roots.isEmpty else { throw TetherTransportError("no certificate in the CA file \(caFile)") }
        var configuration = clientDefaults()
        configuration.trustRoots = .certificates(roots)
        return TetherTLS(configuration: configuration, idleTimeout: idleTimeout)
    }

    private static func clientDefaults() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// The shared context, built on first use (blocking I/O: call it off the event loops).
    public func sslContext() throws -> NIOSSLContext {
        try context.withLockedValue { cached in
            if let cached { return cached }
            let made = try NIOSSLContext(configuration: configuration)
            cached = made
            return made
        }
    }

    /// The handler that goes first in a connection to `host`; an IP literal is sent without SNI (which names
    /// hosts only) and matched against the certificate's IP addresses.
    public func makeClientHandler(host: String) throws -> NIOSSLClientHandler {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return try NIOSSLClientHandler(context: try sslContext(), serverHostname: isAddress ? nil : host)
    }

    /// The HTTP client of ``TetherBackend`` calls that use this TLS setting: made on first use and kept for
    /// the life of this object (shut down when it goes).
    func httpClient() -> HTTPClient {
        http.withLockedValue { cached in
            if let cached { return cached }
            var settings = HTTPClient.Configuration(tlsConfiguration: configuration)
            settings.redirectConfiguration = .disallow
            settings.timeout.connect = .seconds(10)
            settings.connectionPool.retryConnectionEstablishment = false
            settings.connectionPool.idleTimeout = TimeAmount(idleTimeout)
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
            cached = made
            return made
        }
    }

    deinit {
        if let client = http.withLockedValue({ $0 }) { client.shutdown().whenComplete { _ in } }
    }
}
