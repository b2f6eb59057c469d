import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the TLS certificate and key on SIGHUP (API.md "Keys and TLS"): connections open stay on the
/// certificate they were accepted with, new ones get the new one. Files that cannot be used (a half-written
/// renewal, a key that does not match) leave the current certificate in place, and the error is printed.
final class TLSReloader: Service {
    private let identity: TLSIdentity
    private let signals: UnixSignalsSequence
    private let logger: Logger

    /// Traps SIGHUP from now on (before the listeners bind: a SIGHUP's default action ends the process).
    init(identity: TLSIdentity, logger: Logger) async {
        self.identity = identity
        self.logger = logger
        self.signals = await UnixSignalsSequence(trapping: .sighup)
    }

    /// Reloads on each SIGHUP until graceful shutdown.
    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                try identity.reload()
                Console.line("tether: TLS certificate reloaded from \(identity.files.certificatePath)")
            } catch {
                logger.error("TLS reload failed; the current certificate stays", metadata: ["error": "\(error)"])
                Console.line("tether: TLS reload failed, the current certificate stays: \(error)")
            }
        }
    }
}
