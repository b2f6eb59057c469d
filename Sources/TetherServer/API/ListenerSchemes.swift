import TetherProtocol

/// The URL schemes clients are told in `connect`, and the listeners are named with: plain or TLS.
struct ListenerSchemes: Sendable, Hashable {
    /// Whether the listeners speak TLS.
    let secure: Bool

    /// `ws` or `wss`.
    var websocket: String { secure ? "wss" : "ws" }
    /// `http` or `https` (backend API and HTTP heartbeats).
    var http: String { secure ? "https" : "http" }
    /// `tcp` or `tls` (TCP frames).
    var tcp: String { secure ? "tls" : "tcp" }

    /// The `connect` block of a client plane on `host`.
    func connect(host: String, clientPort: Int, tcpPort: Int) -> TetherAPI.CreatedSession.Connect {
        .init(
            websocket: "\(websocket)://\(host):\(clientPort)/v1/connect",
            tcp: tcpPort == 0 ? nil : "\(tcp)://\(host):\(tcpPort)",
            http: "\(http)://\(host):\(clientPort)/v1/heartbeat")
    }
}
