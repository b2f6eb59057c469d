import TetherProtocol

extension TetherClient {
    /// The transports a ``TetherClient`` speaks.
    public enum Transport: String, Sendable, Hashable, CaseIterable {
        /// `connect.websocket`.
        case websocket
        /// `connect.tcp`.
        case tcp
    }

    /// A client for a session just created: its token, the `connect` URL of `transport`, and the project's
    /// grace window until the first welcome says it.
    /// - Throws: ``TetherClientError/unsupportedEndpoint(_:)`` when the session has no usable URL for `transport`.
    public init(
        session: TetherBackend.CreatedSession, transport: Transport = .websocket,
        configuration: TetherClientConfiguration = .init()
    ) throws(TetherClientError) {
        let url = transport == .websocket ? session.connect.websocket : session.connect.tcp
        guard let url, let endpoint = TetherEndpoint(url: url) else {
            throw .unsupportedEndpoint(url ?? "no \(transport.rawValue) URL")
        }
        var configuration = configuration
        configuration.reconnectGrace = .milliseconds(session.reconnectGraceMs)
        self.init(token: session.clientToken, endpoint: endpoint, configuration: configuration)
    }
}
