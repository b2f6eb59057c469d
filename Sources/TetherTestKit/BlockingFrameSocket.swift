import Foundation
import TetherProtocol

/// A blocking TCP-frame client on a plain socket, for tests that keep connections open across a kill. Its
/// waits block their thread: call them through `offPool` from async tests. Used by one task at a time (hence
/// `@unchecked Sendable`).
public final class BlockingFrameSocket: @unchecked Sendable {
    private let fd: Int32
    private var closed = false

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close() }

    /// Closes once: a second close could close a descriptor the process has reused meanwhile.
    public func close() {
        guard !closed else { return }
        closed = true
        _ = Foundation.close(fd)
    }

    /// Closes as a well-behaved client does: shuts its output (a FIN), reads and drops what the server still
    /// sends until the server closes too (or the 5 s read timeout), then closes. A plain ``close()`` with unread
    /// input (a server ping that came meanwhile) sends a reset, which the server counts as an error, not a close.
    /// Blocks: call it through `offPool`.
    public func closeAfterDraining() {
        guard !closed else { return }
        shutdown(fd, Int32(SHUT_WR))
        var chunk = [UInt8](repeating: 0, count: 4096)
        while chunk.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {}
        close()
    }

    /// Sends one message as a frame.
    public func send(_ message: ClientMessage) {
        let payload = [UInt8](message.json)
        var bytes: [UInt8] = []
        let length = UInt32(payload.count + 1)
        bytes += [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
        bytes.append(message.frameType.rawValue)
        bytes += payload
        _ = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads one server message (nil on close, error or timeout).
    public func receive() -> ServerMessage? {
        guard let header = read(5) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard length >= 1, let payload = read(length - 1) else { return nil }
        return try? JSONDecoder().decode(ServerMessage.self, from: Data(payload))
    }

    private func read(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            guard n > 0 else { return nil }
            got += n
        }
        return out
    }

    /// Says hello and returns the welcome.
    public func hello(_ credential: ClientMessage.Credential) -> ServerMessage.Welcome? {
        send(.hello(credential))
        guard case .welcome(let welcome) = receive() else { return nil }
        return welcome
    }
}
