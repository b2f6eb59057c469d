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

/// An incremental `text/event-stream` parser (the WHATWG rules, minus `retry:`): bytes in, complete events
/// out. Lines end with LF, CRLF or CR; comments (`:`) are skipped; a blank line dispatches the event when it
/// has data.
struct ServerSentEventParser {
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var id: String?
    private var event: String?
    private var data: [String] = []

    /// Feeds bytes; returns the events they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var out: [ServerSentEvent] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") && lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == UInt8(ascii: "\r")
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if let event = endLine() { out.append(event) }
            } else {
                line.append(byte)
            }
        }
        return out
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            defer {
                event = nil
                data = []
            }
            guard !data.isEmpty else { return nil }
            return ServerSentEvent(id: id, event: event, data: data.joined(separator: "\n"))
        }
        if line.first == UInt8(ascii: ":") { return nil }
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
