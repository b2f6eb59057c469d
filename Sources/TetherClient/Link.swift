import NIOCore
import NIOPosix
import NIOWebSocket
import TetherProtocol

/// Something that happened to one connection, in order, for the client's event loop.
enum LinkEvent: Sendable {
    /// A message from the server (TCP `ping`s are answered by the channel handler and arrive as `activity`).
    case message(ServerMessage)
    /// An inbound frame that is not a message: a WebSocket ping or pong frame, a TCP server `ping`.
    case activity
    /// The connection is gone. `code`: the WebSocket close frame's code, if one came.
    case closed(code: UInt16?, reason: String)
    /// Heartbeat timer.
    case tick
    /// The welcome did not come in time.
    case helloTimeout
}

/// One open connection to the client plane, WebSocket or TCP; what it receives goes to an `AsyncStream`.
struct Link: Sendable {
    /// How messages are framed.
    enum Framing: Sendable { case websocket, tcp }

    let channel: any Channel
    let framing: Framing
    /// The outermost outbound handler: when the last frame left, and the switch that silences the connection.
    let tap: LinkTap

    /// Opens a connection to `endpoint` (from `localAddress` when given); its events go to `events` (finished
    /// when the connection is gone).
    static func open(
        _ endpoint: TetherEndpoint, group: any EventLoopGroup, connectTimeout: Duration,
        localAddress: SocketAddress? = nil, tls: TetherTLS = .system, events: AsyncStream<LinkEvent>.Continuation
    ) async throws -> Link {
        let tap = LinkTap()
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
        if let localAddress { bootstrap = bootstrap.bind(to: localAddress) }
        do {
            switch endpoint {
            case .websocket(let host, let port, let path, let secure):
                if secure { _ = try tls.sslContext() }  // built here, off the event loop, once
                let channel = try await WebSocketLink.connect(
                    host: host, port: port, path: path, bootstrap: bootstrap, tls: secure ? tls : nil, tap: tap,
                    events: events)
                return Link(channel: channel, framing: .websocket, tap: tap)
            case .tcp(let host, let port, let secure):
                if secure { _ = try tls.sslContext() }
                let channel =
                    try await bootstrap
                    .connect(host: host, port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let sync = channel.pipeline.syncOperations
                            if secure { try sync.addHandler(tls.makeClientHandler(host: host)) }
                            try sync.addHandler(tap)
                            try sync.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                            try sync.addHandler(MessageToByteHandler(TCPFrameEncoder()))
                            try sync.addHandler(TCPLinkHandler(events: events))
                            return channel
                        }
                    }
                return Link(channel: channel, framing: .tcp, tap: tap)
            }
        } catch {
            events.finish()
            throw error
        }
    }

    /// Sends one message (a masked text frame, or a frame of the message's type).
    func send(_ message: ClientMessage) async throws {
        let payload = ByteBuffer(bytes: message.json)
        switch framing {
        case .websocket:
            try await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: payload))
        case .tcp:
            try await channel.writeAndFlush(TCPFrame(type: message.frameType.rawValue, payload: payload))
        }
    }

    /// Closes the connection (no goodbye).
    func close() { channel.close(promise: nil) }
}
