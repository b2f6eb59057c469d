import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// Where the server's certificate chain and private key are (`--tls-cert`, `--tls-key`, PEM).
public struct TLSFiles: Sendable, Hashable {
    /// The certificate chain, leaf first (PEM).
    public var certificatePath: String
    /// The private key of the leaf (PEM; any extension: the files are always read as PEM).
    public var keyPath: String

    /// Names the two files.
    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// Why the TLS files could not be used; the server refuses to start with them (or, on SIGHUP, keeps the
/// certificate it has).
struct TLSSetupError: Error, CustomStringConvertible {
    let description: String
}

/// The server's TLS identity: one `NIOSSLContext` for all three listeners, swapped as a whole when the files
/// are reloaded (SIGHUP). Each connection's handler takes the context current when it is accepted and keeps it,
/// so a reload changes what new connections are shown and drops none.
final class TLSIdentity: Sendable {
    /// The files it reads.
    let files: TLSFiles
    private let current: NIOLockedValueBox<NIOSSLContext>

    /// Reads the files and builds the context (blocking disk I/O: never on an event loop).
    init(files: TLSFiles) throws {
        self.files = files
        self.current = NIOLockedValueBox(try Self.context(files))
    }

    /// A handler for a newly accepted connection; it goes first in the channel's pipeline.
    func makeServerHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: current.withLockedValue { $0 })
    }

    /// Reads the files again and serves the new certificate to the connections accepted from now on; on an
    /// error the old one stays and the error is thrown.
    func reload() throws {
        let fresh = try Self.context(files)
        current.withLockedValue { $0 = fresh }
    }

    /// TLS 1.2 and 1.3 only (NIOSSL's server default still accepts 1.0), and a 1 s wait for the peer's
    /// close_notify (5 s by default: a dead peer would hold a shutdown that long).
    static func configuration(_ files: TLSFiles) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath)
        } catch {
            throw TLSSetupError(description: "cannot read the certificate \(files.certificatePath) as PEM: \(error)")
        }
        guard !chain.isEmpty else {
            throw TLSSetupError(description: "no certificate in \(files.certificatePath)")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.keyPath, format: .pem)
        } catch {
            throw TLSSetupError(description: "cannot read the private key \(files.keyPath) as PEM: \(error)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.shutdownTimeout = .seconds(1)
        return tls
    }

    private static func context(_ files: TLSFiles) throws -> NIOSSLContext {
        let configuration = try configuration(files)
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                description:
                    "cannot use \(files.certificatePath) with \(files.keyPath) (does the key match the certificate?): \(error)"
            )
        }
    }

    /// The certificates of the chain file, which a node trusts when it calls another node of its cluster over
    /// HTTPS (nodes share a certificate, or certificates of one CA in the chain).
    func chain() -> [NIOSSLCertificate] {
        (try? NIOSSLCertificate.fromPEMFile(files.certificatePath)) ?? []
    }
}

extension TLSIdentity {
    /// Adds the server's TLS handler and its error filter at the front of a new connection's pipeline.
    func addServerHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(TLSErrorFilter(), position: .first)
        try pipeline.addHandler(makeServerHandler(), position: .first)
    }
}

/// Sits right after the TLS handler and keeps its errors from the handlers behind it: a failed handshake
/// (a scanner, a plain-text client on a TLS port) is closed by the TLS handler itself, and a peer that closes
/// without close_notify (`uncleanShutdown`, most clients that just go) is an ordinary disconnect, not a
/// connection error.
final class TLSErrorFilter: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOSSLError || error is BoringSSLError { return }
        context.fireErrorCaught(error)
    }
}

extension TetherServer {
    /// How a node calls another node's backend API (forwarding to the owner): nil without TLS; with it, the
    /// system's roots plus this node's own certificate chain (nodes that share one self-signed certificate)
    /// and the certificates of `--ca-file`.
    func peerTLSConfiguration() throws -> TLSConfiguration? {
        guard let tlsIdentity else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        var extra = tlsIdentity.chain()
        if let file = configuration.peerCAFile {
            do {
                extra += try NIOSSLCertificate.fromPEMFile(file)
            } catch {
                throw TLSSetupError(description: "cannot read the CA file \(file) as PEM: \(error)")
            }
        }
        tls.additionalTrustRoots = [.certificates(extra)]
        return tls
    }
}
