import Logging
import Synchronization

/// Records why an SDK client lost its connections: a logger for `TetherClientConfiguration.logger` that keeps
/// the client's "connection lost" lines (debug level, with the `LinkLoss`), and the last messages it received
/// before each (trace level), so that a test whose healthy client reconnected can say why in its failure
/// message.
public final class LossRecorder: Sendable {
    private let lines = Mutex<[String]>([])
    private let recent = Mutex<[String]>([])

    /// How many of the last received messages are kept.
    public static let recentCount = 8

    public init() {}

    /// The losses so far, as the client described them, each after the messages received just before it.
    public var losses: [String] { lines.withLock { $0 } }

    /// A logger that records the client's losses and its last messages (and drops everything else).
    public var logger: Logger {
        var logger = Logger(label: "tether.client.losses") { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func lost(_ line: String) {
        let before = recent.withLock { recent in
            defer { recent = [] }
            return recent
        }
        lines.withLock { $0.append("\(line) after \(before)") }
    }

    fileprivate func received(_ line: String) {
        recent.withLock {
            $0.append(line)
            if $0.count > Self.recentCount { $0.removeFirst() }
        }
    }

    private struct Handler: LogHandler {
        let recorder: LossRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let text = "\(event.message) \(event.metadata ?? [:])"
            if event.message.description.contains("connection lost") {
                recorder.lost(text)
            } else if event.level == .trace {
                recorder.received(text)
            }
        }
    }
}
