import Foundation
import NIOCore
import Testing

@testable import TetherProtocol

/// The heartbeat fast paths of the wire format give exactly what the strict decoder gives.
struct ProtocolFastPathTests {
    /// The slow path alone: what `ClientMessage(json:)` did before the fast path.
    private func slow(_ text: String) -> Result<ClientMessage, ProtocolError> {
        Result { () throws(ProtocolError) in try ClientMessage(decodingStrictly: Data(text.utf8)) }
    }

    private func decoded(_ text: String) -> Result<ClientMessage, ProtocolError> {
        Result { () throws(ProtocolError) in try ClientMessage(json: Data(text.utf8)) }
    }

    private func fast(_ text: String) -> ClientMessage? {
        Array(text.utf8).withUnsafeBytes { ClientMessage.fastPing($0) }
    }

    @Test(arguments: [
        #"{"type":"ping","seq":1,"t":2}"#, #"{"seq":1,"type":"ping"}"#, #"{"t":-5,"seq":0,"type":"ping"}"#,
        #"{"type":"ping","seq":18446744073709551615,"t":-9223372036854775808}"#,
        #"{"type":"ping","seq":1,"t":9223372036854775807}"#, #"{"type":"ping","seq":1,"t":-0}"#,
    ])
    func usualPingsTakeTheFastPathWithTheSameResult(_ text: String) throws {
        let message = try #require(fast(text))
        #expect(Result.success(message) == slow(text))
        #expect(decoded(text) == slow(text))
    }

    @Test(arguments: [
        #"{"type":"ping","seq":18446744073709551616}"#, #"{"type":"ping","seq":01}"#, #"{"type":"ping","seq":1.0}"#,
        #"{"type":"ping","seq":1e3}"#, #"{"type":"ping"}"#, #"{"type":"ping","seq":1,"seq":2}"#,
        #"{"type":"ping","seq":1,}"#, #"{"type":"ping","seq":-1}"#, #"{"type":"pong","seq":1}"#,
        #"{"type":"ping","seq":1,"x":1}"#, #"{"type":"ping","seq":1} "#, #" {"type":"ping","seq":1}"#,
        #"{"type":"ping","seq":1,"t":9223372036854775808}"#, #"{"type":"ping","seq":1,"t":null}"#,
        #"{"type":"ping","seq":"1"}"#, #"{"type":"ping" ,"seq":1}"#, "", "{}", #"{"type":"ping","seq":1}x"#,
        #"{"type":"ping","seq":1,"t":-}"#, #"{"type":"ping","type":"ping","seq":1}"#, #"{"type":"pingx","seq":1}"#,
        #"{"type":"hello","token":"abc"}"#, #"{"type":"bye"}"#, #"[1]"#, "{", #"{"seq":1}"#,
    ])
    func anythingElseFallsBackToTheStrictDecoder(_ text: String) {
        #expect(fast(text) == nil)
        #expect(decoded(text) == slow(text))
    }

    @Test func randomPingsAgree() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let seq = UInt64.random(in: 0...UInt64.max, using: &generator) >> UInt64.random(in: 0...63)
            let t = Int64.random(in: Int64.min...Int64.max, using: &generator) >> Int64.random(in: 0...63)
            var fields = [#""type":"ping""#, #""seq":\#(seq)"#]
            if Bool.random() { fields.append(#""t":\#(t)"#) }
            let text = "{" + fields.shuffled().joined(separator: ",") + "}"
            #expect(fast(text) != nil, "\(text)")
            #expect(decoded(text) == slow(text), "\(text)")
        }
    }

    @Test(arguments: [
        ServerMessage.pong(seq: 0, t: 0, st: 0), .pong(seq: UInt64.max, t: Int64.min, st: Int64.max),
        .pong(seq: 7, t: -70, st: 1_700_000_000_000), .ping(seq: 3, t: 1_700_000_000_000), .ping(seq: 1, t: -1),
        .kick(reason: "expired", retryAfterMs: nil), .kick(reason: "shut\"down", retryAfterMs: 5),
        .welcome(
            .init(
                sessionId: "s-1", epoch: 2, concurrencyId: "cc-p-1", heartbeat: .init(intervalMs: 1, timeoutMs: 2),
                serverTime: 3, resumeToken: "r", reconnectGraceMs: 4)),
    ])
    func writtenServerMessagesDecodeBackToThemselves(_ message: ServerMessage) throws {
        var buffer = ByteBuffer()
        message.writeJSON(into: &buffer)
        let decoded = try JSONDecoder().decode(ServerMessage.self, from: Data(buffer.readableBytesView))
        #expect(decoded == message)
    }
}
