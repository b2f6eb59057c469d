import NIOCore
import NIOEmbedded
import Testing

@testable import TetherServer

/// The per-address cap's handler: a connection within the cap is counted, released when it closes, and the
/// handler leaves its pipeline (its reads skip it); one over the cap is answered and its input dropped.
struct AddressCapHandlerTests {
    static let address = try! SocketAddress(ipAddress: "127.0.0.9", port: 4242)

    static func connected(_ cap: AddressCap) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(AddressCapHandler(cap: cap, answer: .http))
        try channel.connect(to: address).wait()
        return channel
    }

    @Test func aConnectionWithinTheCapIsCountedUntilItClosesAndTheHandlerLeaves() throws {
        let cap = AddressCap(limit: 1)
        let key = AddressCap.Key(Self.address)
        let channel = try Self.connected(cap)
        #expect(cap.count(key) == 1)
        #expect(throws: (any Error).self) {
            _ = try channel.pipeline.syncOperations.handler(type: AddressCapHandler.self)
        }
        // Reads reach the next handler directly.
        try channel.writeInbound(ByteBuffer(string: "hello"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "hello"))
        _ = try channel.finish()
        #expect(cap.count(key) == 0, "released when the connection closed")
        // The place is free again.
        let next = try Self.connected(cap)
        #expect(cap.count(key) == 1)
        _ = try next.finish()
        #expect(cap.count(key) == 0)
    }

    @Test func aConnectionOverTheCapIsAnsweredAndItsInputDropped() throws {
        let cap = AddressCap(limit: 1)
        let key = AddressCap.Key(Self.address)
        let held = try Self.connected(cap)
        let over = try Self.connected(cap)
        #expect(cap.count(key) == 1)
        #expect((try? over.pipeline.syncOperations.handler(type: AddressCapHandler.self)) != nil, "it stays")
        let answer = try #require(try over.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: answer).hasPrefix("HTTP/1.1 429"))
        try over.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(try over.readInbound(as: ByteBuffer.self) == nil, "the input never reaches the application")
        _ = try? over.finish()
        #expect(cap.count(key) == 1, "closing a refused connection releases nothing")
        _ = try held.finish()
        #expect(cap.count(key) == 0)
    }
}
