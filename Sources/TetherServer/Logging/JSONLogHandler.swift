import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per record (`--log-format json`): `ts` (ISO 8601, ms),
/// `level`, `label`, `message`, and the record's metadata as top-level fields (`requestId`, `sessionId`,
/// `projectId`, ...), for log shippers that index fields.
public struct JSONLogHandler: LogHandler {
    /// Where lines go (stderr by default); one lock per process keeps lines whole.
    public typealias Sink = @Sendable (String) -> Void

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let sink: Sink

    private static let stderrLock = Mutex(())
    /// Writes a line to standard error.
    public static let standardError: Sink = { line in
        stderrLock.withLock { _ in
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    /// Creates a handler for `label` writing to `sink`.
    public init(label: String, sink: @escaping Sink = JSONLogHandler.standardError) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        sink(Self.line(level: event.level, label: label, message: "\(event.message)", metadata: merged, date: Date()))
    }

    /// The JSON line of one record (fields in a fixed order, metadata keys sorted).
    public static func line(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, date: Date)
        -> String
    {
        var object: [(String, Any)] = [
            ("ts", timestamp(date)), ("level", level.rawValue), ("label", label), ("message", message),
        ]
        for key in metadata.keys.sorted() where !["ts", "level", "label", "message"].contains(key) {
            object.append((key, plain(metadata[key]!)))
        }
        let body = object.map { key, value in "\(quote(key)):\(encode(value))" }.joined(separator: ",")
        return "{\(body)}"
    }

    private static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let values): return values.map(plain)
        case .dictionary(let d): return d.mapValues(plain)
        }
    }

    private static func encode(_ value: Any) -> String {
        switch value {
        case let s as String: return quote(s)
        case let a as [Any]: return "[" + a.map(encode).joined(separator: ",") + "]"
        case let d as [String: Any]:
            return "{" + d.keys.sorted().map { "\(quote($0)):\(encode(d[$0]!))" }.joined(separator: ",") + "}"
        default: return quote("\(value)")
        }
    }

    private static func quote(_ s: String) -> String {
        let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
