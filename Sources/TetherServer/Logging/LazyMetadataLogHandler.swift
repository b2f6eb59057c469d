import Logging

/// Keeps a logger's metadata itself and hands it to `base` only with a record that is written.
///
/// swift-log's `StreamLogHandler` renders its metadata to text every time an item is set. Hummingbird sets
/// one (`hb.request.id`) on every request's logger, and most requests never write a line: that rendering
/// was ~4 % of an API request's CPU. Here setting an item only stores it; a written record carries the
/// metadata as its own (a record's explicit items still win), so the line reads as before.
public struct LazyMetadataLogHandler<Base: LogHandler>: LogHandler {
    /// The handler that writes; its own metadata stays empty.
    public var base: Base
    /// The logger's metadata.
    public var metadata: Logger.Metadata = [:]

    /// Wraps `base`.
    public init(base: Base) {
        self.base = base
    }

    public var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        guard !metadata.isEmpty else {
            base.log(event: event)
            return
        }
        var event = event
        event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        base.log(event: event)
    }
}
