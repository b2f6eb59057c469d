/// Where a client connects: one of CreateSession's `connect` URLs.
public enum TetherEndpoint: Sendable, Hashable {
    /// `ws://host:port/path`, or `wss://` when `secure` (TLS, ``TetherClientConfiguration/tls``).
    case websocket(host: String, port: Int, path: String, secure: Bool = false)
    /// `tcp://host:port`, or `tls://` when `secure`.
    case tcp(host: String, port: Int, secure: Bool = false)

    /// Parses `ws://host:port/path`, `wss://host:port/path`, `tcp://host:port` or `tls://host:port` (IPv6 hosts
    /// in brackets; a WebSocket URL without a port means 80, or 443 for `wss`); nil for anything else.
    public init?(url: String) {
        let websocket: Bool
        let secure: Bool
        var rest: Substring
        if url.hasPrefix("ws://") {
            (websocket, secure, rest) = (true, false, url.dropFirst(5))
        } else if url.hasPrefix("wss://") {
            (websocket, secure, rest) = (true, true, url.dropFirst(6))
        } else if url.hasPrefix("tcp://") {
            (websocket, secure, rest) = (false, false, url.dropFirst(6))
        } else if url.hasPrefix("tls://") {
            (websocket, secure, rest) = (false, true, url.dropFirst(6))
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
            guard websocket else { return nil }
            port = secure ? 443 : 80
        }
        self =
            websocket
            ? .websocket(host: String(host), port: port, path: path, secure: secure)
            : .tcp(host: String(host), port: port, secure: secure)
    }

    /// Whether the endpoint speaks TLS (`wss://`, `tls://`).
    public var secure: Bool {
        switch self {
        case .websocket(_, _, _, let secure), .tcp(_, _, let secure): secure
        }
    }

    /// The transport's name as sessions show it.
    public var transportName: String {
        switch self {
        case .websocket: "websocket"
        case .tcp: "tcp"
        }
    }
}
