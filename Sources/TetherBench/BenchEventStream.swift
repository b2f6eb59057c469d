/// One server-sent event (`id:`, `event:`, `data:` lines, ended by a blank line).
struct ServerSentEvent: Equatable, Sendable {
    /// The `id:` field (the event cursor).
    var id: String?
    /// The `event:` field (the event type).
    var event: String?
    /// The `data:` lines, joined by newlines.
    var data: String
}

/// Splits a `text/event-stream` body into events as its bytes arrive (lines end in LF or CRLF; `:` lines
/// are comments).
struct EventStreamParser {
    private var line: [UInt8] = []
    private var current = ServerSentEvent(id: nil, event: nil, data: "")
    private var hasData = false

    /// Feeds body bytes; returns the events they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var out: [ServerSentEvent] = []
        for byte in bytes {
            guard byte == 10 else {
                line.append(byte)
                continue
            }
            if line.last == 13 { line.removeLast() }
            if line.isEmpty {
                if hasData || current.id != nil || current.event != nil { out.append(current) }
                current = ServerSentEvent(id: nil, event: nil, data: "")
                hasData = false
            } else {
                take(String(decoding: line, as: UTF8.self))
            }
            line.removeAll(keepingCapacity: true)
        }
        return out
    }

    private mutating func take(_ text: String) {
        guard !text.hasPrefix(":") else { return }
        let name: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            name = text[...]
            value = ""
        }
        switch name {
        case "id": current.id = String(value)
        case "event": current.event = String(value)
        case "data":
            current.data = hasData ? current.data + "\n" + value : String(value)
            hasData = true
        default: break
        }
    }
}
