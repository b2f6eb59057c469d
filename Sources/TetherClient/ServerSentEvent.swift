/// One Server-Sent Event as `GET /v1/events` streams it: `id` is the event's cursor, `event` its type, `data`
/// its JSON on one line.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `id:` field (the cursor), if any.
    public var id: String?
    /// The `event:` field (the event type), if any.
    public var event: String?
    /// The `data:` lines, joined with newlines.
    public var data: String

    /// Creates an event.
    public init(id: String? = nil, event: String? = nil, data: String) {
        self.id = id
        self.event = event
        self.data = data
    }

    /// The `id` as a cursor.
    public var cursor: UInt64? { id.flatMap { UInt64($0) } }
}

/// What a `text/event-stream` carries: an event, or a comment line (`: keepalive`).
public enum ServerSentEventItem: Sendable, Hashable {
    /// A complete event.
    case event(ServerSentEvent)
    /// A comment line's text after the `:` (one leading space removed, as for field values).
    case comment(String)
}

/// An incremental `text/event-stream` parser (the WHATWG rules, minus `retry:`): bytes in, complete events
/// out. Lines end with LF, CRLF or CR; comments (`:`) are skipped by ``feed(_:)`` and returned by
/// ``feedItems(_:)``; a blank line dispatches the event when it has data. The `id` carries over to the
/// following events until a new `id:` line, as the last event ID does in a browser.
///
/// The one SSE parser of the package: the SDK's ``TetherEventStream``, `tether bench` and the tests read with it.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var id: String?
    private var event: String?
    private var data: [String] = []

    /// A parser at the start of a stream.
    public init() {}

    /// Feeds bytes; returns the events they complete (comments are skipped).
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var out: [ServerSentEvent] = []
        scan(bytes) { if case .event(let event) = $0 { out.append(event) } }
        return out
    }

    /// Feeds bytes; returns the events and comment lines they complete, in stream order.
    public mutating func feedItems(_ bytes: some Sequence<UInt8>) -> [ServerSentEventItem] {
        var out: [ServerSentEventItem] = []
        scan(bytes) { out.append($0) }
        return out
    }

    private mutating func scan(_ bytes: some Sequence<UInt8>, _ emit: (ServerSentEventItem) -> Void) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") && lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == UInt8(ascii: "\r")
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if let item = endLine() { emit(item) }
            } else {
                line.append(byte)
            }
        }
    }

    private mutating func endLine() -> ServerSentEventItem? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            defer {
                event = nil
                data = []
            }
            guard !data.isEmpty else { return nil }
            return .event(ServerSentEvent(id: id, event: event, data: data.joined(separator: "\n")))
        }
        if line.first == UInt8(ascii: ":") {
            var text = line.dropFirst()
            if text.first == UInt8(ascii: " ") { text = text.dropFirst() }
            return .comment(String(decoding: text, as: UTF8.self))
        }
        let text = String(decoding: line, as: UTF8.self)
        var name = Substring(text)
        var value = Substring("")
        if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        }
        switch name {
        case "id": id = String(value)
        case "event": event = String(value)
        case "data": data.append(String(value))
        default: break
        }
        return nil
    }
}
