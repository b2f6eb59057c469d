import Foundation
import TetherClient

/// A Server-Sent Events client on a plain blocking socket: sends one `GET /v1/events` with
/// `Accept: text/event-stream`, decodes the chunked body and parses events and comments.
///
/// Every wait runs on a thread of its own (``offPool(_:)``), never on Swift concurrency's cooperative pool:
/// a `recv` that waits up to its timeout there would stall every other test of the process (the pool has as
/// many threads as cores). Used by one task at a time (hence `@unchecked Sendable`).
public final class SSEReader: @unchecked Sendable {
    /// One parsed event.
    public struct Message: Equatable, Sendable {
        public var id: UInt64?
        public var event: String?
        public var data: String
    }

    private let fd: Int32
    private var closed = false
    private var buffer: [UInt8] = []
    private var body: [UInt8] = []
    private var parser = ServerSentEventParser()
    private var events: [Message] = []
    public private(set) var status = 0
    public private(set) var headers: [String: String] = [:]
    /// Comment lines seen so far (`: keepalive`).
    public private(set) var comments: [String] = []
    /// Whether the server ended the stream.
    public private(set) var ended = false

    /// Connects, sends the request and reads the response's head.
    public static func open(
        port: Int, key: String, query: String = "", lastEventID: UInt64? = nil, timeoutSeconds: Int = 10
    ) async throws -> SSEReader {
        try await offPool {
            try SSEReader(
                port: port, key: key, query: query, lastEventID: lastEventID, timeoutSeconds: timeoutSeconds)
        }
    }

    private init(port: Int, key: String, query: String, lastEventID: UInt64?, timeoutSeconds: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
        var request =
            "GET /v1/events\(query) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\n"
            + "Accept: text/event-stream\r\n"
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, bytes.count, 0) }
        try readHeaders()
    }

    deinit { close() }

    /// Closes the connection (the reader "disconnects").
    public func close() {
        guard !closed else { return }
        closed = true
        _ = Foundation.close(fd)
    }

    /// The next event, or `nil` when the stream ended or nothing came within the timeout.
    public func next() async -> Message? {
        (try? await offPool { self.blockingNext() }) ?? nil
    }

    private func blockingNext() -> Message? {
        while true {
            if !events.isEmpty { return events.removeFirst() }
            guard fill() else { return nil }
            parse()
        }
    }

    /// Reads until `count` more comment lines arrived; returns them (fewer if the stream stops). Stops early
    /// (returns what it has) if an event arrives instead; the event stays for ``next()``.
    public func nextComments(_ count: Int) async -> [String] {
        (try? await offPool { self.blockingComments(count) }) ?? []
    }

    private func blockingComments(_ count: Int) -> [String] {
        let start = comments.count
        while comments.count < start + count && events.isEmpty {
            guard fill() else { break }
            parse()
        }
        return Array(comments[start...])
    }

    /// Reads events until `count` arrived (or the stream stops).
    public func take(_ count: Int) async -> [Message] {
        (try? await offPool {
            var out: [Message] = []
            while out.count < count, let message = self.blockingNext() { out.append(message) }
            return out
        }) ?? []
    }

    /// Runs the decoded body through the SDK's parser (``ServerSentEventParser``).
    private func parse() {
        for item in parser.feedItems(body) {
            switch item {
            case .comment(let text): comments.append(text.trimmingCharacters(in: .whitespaces))
            case .event(let event):
                events.append(Message(id: event.id.flatMap { UInt64($0) }, event: event.event, data: event.data))
            }
        }
        body = []
    }

    private func readHeaders() throws {
        while true {
            if let end = buffer.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                buffer.removeSubrange(..<end.upperBound)
                let lines = head.components(separatedBy: "\r\n")
                status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
                for line in lines.dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2 {
                        headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
                    }
                }
                return
            }
            guard readSome() else { throw POSIXError(.ECONNRESET) }
        }
    }

    /// Decodes more of the chunked body; false when the stream ended or timed out.
    private func fill() -> Bool {
        while true {
            if headers["transfer-encoding"] != "chunked" {
                guard !buffer.isEmpty || readSome() else { return false }
                body += buffer
                buffer = []
                return true
            }
            if let lineEnd = buffer.firstRange(of: Array("\r\n".utf8)) {
                let sizeText = String(decoding: buffer[..<lineEnd.lowerBound], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else { return false }
                if size == 0 {
                    ended = true
                    return false
                }
                let needed = lineEnd.upperBound + size + 2
                if buffer.count >= needed {
                    body += buffer[lineEnd.upperBound..<(lineEnd.upperBound + size)]
                    buffer.removeSubrange(..<needed)
                    return true
                }
            }
            guard readSome() else { return false }
        }
    }

    private func readSome() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 16_384, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if n == 0 { ended = true }
                return false
            }
            buffer += chunk[0..<n]
            return true
        }
    }
}
