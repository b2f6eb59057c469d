import Logging

/// How `tether serve` writes logs (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's stream handler: `<time> <level> <label>: <metadata> <message>`.
    case text
    /// One JSON object per line (``JSONLogHandler``).
    case json

    /// Bootstraps swift-log for the process (once; the `tether` executable calls it at start).
    public func bootstrap(level: Logger.Level) {
        switch self {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = LazyMetadataLogHandler(base: StreamLogHandler.standardError(label: label))
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
