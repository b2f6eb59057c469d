import NIOCore

/// How long the HTTP listeners (the backend API, and the client port before a WebSocket upgrade) let a
/// connection sit idle or take to send a request, and how many connections one source address may hold on
/// each listener (the TCP port included). From ``TetherConfiguration``.
struct ConnectionLimits: Sendable {
    /// A connection waiting for a request is closed after this.
    var idleTimeout: TimeAmount
    /// A request must arrive, head and body, within this from its first byte.
    var readTimeout: TimeAmount
    /// Open connections per source address on each listener; 0 for no cap.
    var maxPerAddress: Int

    init(_ configuration: TetherConfiguration) {
        idleTimeout = .milliseconds(max(1, configuration.httpIdleTimeoutMs))
        readTimeout = .milliseconds(max(1, configuration.httpReadTimeoutMs))
        maxPerAddress = max(0, configuration.maxConnectionsPerAddress)
    }
}
