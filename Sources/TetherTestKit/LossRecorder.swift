import Logging
import Synchronization

/// Records why an SDK client lost its connections: a logger for `TetherClientConfiguration.logger` that keeps
/// the client's "connection lost" lines (debug level, with the `LinkLoss`), so that a test whose healthy
/// client reconnected can say why in its failure message.
public final class LossRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    /// The losses so far, as the client described them.
    public var losses: [String] { lines.withLock { $0 } }

    /// A logger that records the client's losses (and drops everything else).
    public var logger: Logger {
        var logger = Logger(label: "tether.client.losses") { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func record(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let recorder: LossRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            guard event.message.description.contains("connection lost") || event.level == .trace else { return }
            recorder.record("\(event.message) \(event.metadata ?? [:])")
        }
    }
}
