import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain blocking TCP socket that sends whatever bytes a test likes (half a request, noise, a handshake
/// no client library would make) and tells when the server closed it. Optionally bound to a source address
/// (any 127.x.y.z on Linux), so per-address limits can be tested beside clients on 127.0.0.1.
public final class RawSocket {
    private let fd: Int32
    private var closed = false
    /// Everything received so far.
    public private(set) var received: [UInt8] = []
    /// The server closed the connection (EOF or reset).
    public private(set) var peerClosed = false

    public struct ConnectFailed: Error { var errno: Int32 }

    public init(port: Int, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else {
                _ = Glibc.close(fd)
                throw ConnectFailed(errno: errno)
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            _ = Glibc.close(fd)
            throw ConnectFailed(errno: error)
        }
    }

    deinit { close() }

    /// Closes once.
    public func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fd)
    }

    /// Sends bytes; `false` when the connection is gone.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads what is there, waiting at most `timeoutMs` for something; notes a close.
    private func pump(timeoutMs: Int32) {
        guard !peerClosed, !closed else { return }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMs) > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n > 0 {
            received += chunk[0..<n]
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            peerClosed = true
        }
    }

    /// Waits until the server closes the connection (`true`), or `timeout` passes (`false`). It sleeps between
    /// reads rather than blocking in `poll`: a blocked thread of Swift's cooperative pool (two on a 2-core
    /// machine) holds up every other test's tasks, and a full run once saw another test's HTTP probe wait 20 s.
    public func waitClosed(within timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            pump(timeoutMs: 0)
            if peerClosed || ContinuousClock.now >= deadline { return peerClosed }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until `condition` holds on what was received, or the connection closes, or `timeout` passes
    /// (sleeping between reads, as ``waitClosed(within:)``).
    public func waitReceived(within timeout: Duration = .seconds(10), until condition: ([UInt8]) -> Bool) async -> Bool
    {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            pump(timeoutMs: 0)
            if condition(received) || peerClosed || ContinuousClock.now >= deadline { return condition(received) }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Whether the server has closed the connection by now (reads what is pending, does not wait).
    public var isClosedNow: Bool {
        pump(timeoutMs: 0)
        return peerClosed
    }

    /// The HTTP response received so far: its status, headers (lowercased names) and body.
    public var response: RawHTTPResponse? { RawHTTPResponse(received) }
}

/// An HTTP/1.1 response read off a ``RawSocket``.
public struct RawHTTPResponse {
    public var status: Int
    public var headers: [String: String]
    public var body: String

    public init?(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        guard let first = lines.first, first.hasPrefix("HTTP/1.1 "), let status = Int(first.dropFirst(9).prefix(3))
        else { return nil }
        self.status = status
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        self.headers = headers
        body = String(text[split.upperBound...])
    }

    /// The body parsed as the API's error shape.
    public var error: (code: String, message: String, requestId: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let error = object["error"] as? [String: Any], let code = error["code"] as? String,
            let message = error["message"] as? String, let requestId = error["requestId"] as? String
        else { return nil }
        return (code, message, requestId)
    }
}
