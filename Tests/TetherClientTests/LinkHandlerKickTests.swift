import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import TetherProtocol
import TetherTestKit

@testable import TetherClient

/// A kick that comes in the same read as a server ping reaches the client, even when the pong cannot be written
/// (the server closed for good while the client was stalled: its kernel answers with a reset, and NIO closes
/// the channel as soon as a write fails). The pong of a read goes out at its end, never in its middle, and not
/// at all after a kick or a close frame.
@Suite struct LinkHandlerKickTests {
    /// A channel whose events the handler made by `make` yields, and whose writes fail.
    static func channel(_ make: (AsyncStream<LinkEvent>.Continuation) -> any ChannelHandler) async throws -> (
        EmbeddedChannel, FailingWrites, AsyncStream<LinkEvent>
    ) {
        let (events, sink) = AsyncStream<LinkEvent>.makeStream(bufferingPolicy: .unbounded)
        let failing = FailingWrites()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(failing)
        try channel.pipeline.syncOperations.addHandler(make(sink))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        return (channel, failing, events)
    }

    // Frames are passed with `fireChannelRead` and the read ended with `fireChannelReadComplete`, as NIO does
    // for one read of the socket (`writeInbound` would end a read after every frame).

    static func drain(_ events: AsyncStream<LinkEvent>) async -> [String] {
        var seen: [String] = []
        for await event in events {
            switch event {
            case .message(.kick(let reason, _, _)): seen.append("kick \(reason)")
            case .message: seen.append("message")
            case .activity: seen.append("activity")
            case .closed(let code, _): seen.append("closed \(code.map(String.init) ?? "-")")
            case .tick, .helloTimeout: break
            }
        }
        return seen
    }

    static func tcp(_ message: ServerMessage) -> TCPFrame {
        TCPFrame(type: message.frameType.rawValue, payload: ByteBuffer(bytes: Array(message.json)))
    }

    @Test func tcpPingThenKickInOneReadKeepsTheKick() async throws {
        let (channel, failing, events) = try await Self.channel { TCPLinkHandler(events: $0) }
        channel.pipeline.fireChannelRead(Self.tcp(ServerMessage.ping(seq: 1, t: 0)))
        channel.pipeline.fireChannelRead(Self.tcp(.kick(reason: "destroyed", retryAfterMs: nil, connect: nil)))
        channel.pipeline.fireChannelReadComplete()
        #expect(failing.writes == 0, "no pong after a kick")
        _ = try? await channel.close().get()
        #expect(await Self.drain(events) == ["activity", "kick destroyed", "closed -"])
    }

    @Test func tcpPongsOfAReadGoOutAtItsEndInOrder() async throws {
        let (events, sink) = AsyncStream<LinkEvent>.makeStream(bufferingPolicy: .unbounded)
        let channel = EmbeddedChannel(handler: TCPLinkHandler(events: sink))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        channel.pipeline.fireChannelRead(Self.tcp(ServerMessage.ping(seq: 1, t: 10)))
        channel.pipeline.fireChannelRead(Self.tcp(ServerMessage.ping(seq: 2, t: 20)))
        #expect(try channel.readOutbound(as: TCPFrame.self) == nil, "nothing in the middle of the read")
        channel.pipeline.fireChannelReadComplete()
        let first = try #require(try channel.readOutbound(as: TCPFrame.self))
        let second = try #require(try channel.readOutbound(as: TCPFrame.self))
        #expect(first.type == FrameType.pong.rawValue && second.type == FrameType.pong.rawValue)
        #expect(try ClientMessage(json: first.payload.readableBytesView) == .pong(seq: 1, t: 10))
        #expect(try ClientMessage(json: second.payload.readableBytesView) == .pong(seq: 2, t: 20))
        _ = try? channel.finish()
        #expect(await Self.drain(events) == ["activity", "activity", "closed -"])
    }

    static func text(_ message: ServerMessage) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: Array(message.json)))
    }

    @Test func webSocketPingThenKickAndCloseInOneReadKeepTheKickAndTheCode() async throws {
        let (channel, failing, events) = try await Self.channel { WebSocketLinkHandler(events: $0) }
        var ping = ByteBuffer()
        ping.writeInteger(UInt64(7))
        channel.pipeline.fireChannelRead(WebSocketFrame(fin: true, opcode: .ping, data: ping))
        channel.pipeline.fireChannelRead(Self.text(.kick(reason: "destroyed", retryAfterMs: nil, connect: nil)))
        var close = ByteBuffer()
        close.writeInteger(CloseCode.destroyed.rawValue)
        close.writeString("destroyed")
        channel.pipeline.fireChannelRead(WebSocketFrame(fin: true, opcode: .connectionClose, data: close))
        channel.pipeline.fireChannelReadComplete()
        #expect(failing.writes == 1, "the close echo only, no pong")
        _ = try? await channel.close().get()
        #expect(
            await Self.drain(events) == ["activity", "kick destroyed", "closed \(CloseCode.destroyed.rawValue)"])
    }

    @Test func webSocketPongsOfAReadGoOutAtItsEnd() async throws {
        let (events, sink) = AsyncStream<LinkEvent>.makeStream(bufferingPolicy: .unbounded)
        let channel = EmbeddedChannel(handler: WebSocketLinkHandler(events: sink))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        var ping = ByteBuffer()
        ping.writeInteger(UInt64(9))
        channel.pipeline.fireChannelRead(WebSocketFrame(fin: true, opcode: .ping, data: ping))
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil, "nothing in the middle of the read")
        channel.pipeline.fireChannelReadComplete()
        let pong = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(pong.opcode == .pong)
        #expect(pong.maskKey != nil)
        // `data` is the payload as given; the encoder masks it with `maskKey` on the way out.
        #expect(pong.data.getInteger(at: pong.data.readerIndex, as: UInt64.self) == 9)
        _ = try? channel.finish()
        #expect(await Self.drain(events) == ["activity", "closed -"])
    }
}
