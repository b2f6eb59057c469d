/// An incremental HTTP/1.1 response parser for the benchmark's clients: a head, then the body by
/// `Content-Length`, `Transfer-Encoding: chunked` (delivered chunk by chunk, so an event stream can be
/// read as it arrives), or until the connection closes. One response after another on a keep-alive
/// connection.
struct HTTPResponseParser {
    /// What the bytes fed so far complete.
    enum Part: Equatable {
        /// The status line and headers (names lowercased).
        case head(status: Int, headers: [String: String])
        /// Some body bytes.
        case body([UInt8])
        /// The response is complete.
        case end
    }

    /// The response broke HTTP/1.1.
    struct Malformed: Error, Equatable {
        var what: String
    }

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private var state = State.head
    private var pending: [UInt8] = []
    private var start = 0
    /// Whether the response being read answers a HEAD request (no body whatever the headers say).
    var expectNoBody = false

    /// Feeds bytes; returns the parts they complete, in order.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(Malformed) -> [Part] {
        pending.append(contentsOf: bytes)
        var parts: [Part] = []
        while true {
            let progressed = try step(&parts)
            if !progressed { break }
        }
        if start > 4096 && start * 2 > pending.count {
            pending.removeFirst(start)
            start = 0
        }
        return parts
    }

    /// The connection closed: ends a body that runs until the close.
    mutating func finish() -> [Part] {
        if case .untilClose = state {
            let rest = Array(pending[start...])
            pending = []
            start = 0
            state = .head
            return rest.isEmpty ? [.end] : [.body(rest), .end]
        }
        return []
    }

    private var available: Int { pending.count - start }

    private mutating func step(_ parts: inout [Part]) throws(Malformed) -> Bool {
        switch state {
        case .head:
            guard let end = find([13, 10, 13, 10]) else {
                if available > 64 * 1024 { throw Malformed(what: "head over 64 KiB") }
                return false
            }
            let text = String(decoding: pending[start..<end], as: UTF8.self)
            start = end + 4
            var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
            guard !lines.isEmpty else { throw Malformed(what: "empty head") }
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
                throw Malformed(what: "status line")
            }
            var headers: [String: String] = [:]
            for line in lines where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else { throw Malformed(what: "header line") }
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingSpaces
                headers[name] = headers[name].map { "\($0), \(value)" } ?? value
            }
            parts.append(.head(status: status, headers: headers))
            if expectNoBody || status == 204 || status == 304 || (100..<200).contains(status) {
                parts.append(.end)
                state = .head
            } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
                state = .chunkSize
            } else if let raw = headers["content-length"] {
                guard let n = Int(raw), n >= 0 else { throw Malformed(what: "content-length") }
                if n == 0 {
                    parts.append(.end)
                    state = .head
                } else {
                    state = .fixed(remaining: n)
                }
            } else {
                state = .untilClose
            }
            return true
        case .fixed(let remaining):
            guard available > 0 else { return false }
            let n = min(remaining, available)
            parts.append(.body(Array(pending[start..<start + n])))
            start += n
            if n == remaining {
                parts.append(.end)
                state = .head
            } else {
                state = .fixed(remaining: remaining - n)
            }
            return true
        case .chunkSize:
            guard let end = find([13, 10]) else { return false }
            let line = String(decoding: pending[start..<end], as: UTF8.self)
            let hex = line.split(separator: ";").first.map { $0.trimmingSpaces } ?? ""
            guard let size = Int(hex, radix: 16), size >= 0 else { throw Malformed(what: "chunk size '\(line)'") }
            start = end + 2
            state = size == 0 ? .trailers : .chunkData(remaining: size)
            return true
        case .chunkData(let remaining):
            guard available > 0 else { return false }
            let n = min(remaining, available)
            parts.append(.body(Array(pending[start..<start + n])))
            start += n
            state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            return true
        case .chunkDataEnd:
            guard available >= 2 else { return false }
            guard pending[start] == 13, pending[start + 1] == 10 else { throw Malformed(what: "chunk end") }
            start += 2
            state = .chunkSize
            return true
        case .trailers:
            guard let end = find([13, 10]) else { return false }
            let empty = end == start
            start = end + 2
            if empty {
                parts.append(.end)
                state = .head
            }
            return true
        case .untilClose:
            guard available > 0 else { return false }
            parts.append(.body(Array(pending[start...])))
            start = pending.count
            return true
        }
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard available >= needle.count else { return nil }
        var i = start
        while i + needle.count <= pending.count {
            if pending[i] == needle[0] && pending[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

/// A complete response.
struct HTTPReply: Sendable {
    /// The status code.
    var status: Int
    /// Headers, names lowercased.
    var headers: [String: String]
    /// The body.
    var body: [UInt8]

    /// The body as text.
    var text: String { String(decoding: body, as: UTF8.self) }
}
