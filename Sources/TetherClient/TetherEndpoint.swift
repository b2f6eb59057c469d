/// Where a client connects: one of CreateSession's `connect` URLs.
public enum TetherEndpoint: Sendable, Hashable {
    /// `ws://host:port/path`.
    case websocket(host: String, port: Int, path: String)
    /// `tcp://host:port`.
    case tcp(host: String, port: Int)

    /// Parses `ws://host:port/path` or `tcp://host:port` (IPv6 hosts in brackets); nil for anything else
    /// (`wss://` needs TLS, which this SDK does not carry).
    public init?(url: String) {
        let scheme: String
        var rest: Substring
        if url.hasPrefix("ws://") {
            scheme = "ws"
            rest = url.dropFirst(5)
        } else if url.hasPrefix("tcp://") {
            scheme = "tcp"
            rest = url.dropFirst(6)
        } else {
            return nil
        }
        var path = "/"
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        let host: Substring
        let portText: Substring?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            portText = after.hasPrefix(":") ? after.dropFirst() : nil
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
            portText = nil
        }
        guard !host.isEmpty else { return nil }
        let port: Int
        if let portText {
            guard let p = Int(portText), (1...65_535).contains(p) else { return nil }
            port = p
        } else {
            guard scheme == "ws" else { return nil }
            port = 80
        }
        self =
            scheme == "ws"
            ? .websocket(host: String(host), port: port, path: path) : .tcp(host: String(host), port: port)
    }

    /// The transport's name as sessions show it.
    public var transportName: String {
        switch self {
        case .websocket: "websocket"
        case .tcp: "tcp"
        }
    }
}
