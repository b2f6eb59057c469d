import Foundation
import NIOCore
import Testing
import TetherProtocol

/// `ServerMessage`'s JSON is written by ``JSONWriter`` (no `JSONEncoder`): every message, with awkward strings
/// and integer extremes, reads back equal through the `Decodable` conformance the SDK uses, with `type` first.
@Suite struct ServerMessageJSONTests {
    static let awkward = TetherAPIJSONTests.awkward
    static let connect = ServerMessage.Connect(
        websocket: "ws://node-b:7101/v1/connect", tcp: "node-b:7102", http: "http://node-b:7101/v1/heartbeat")

    static var messages: [ServerMessage] {
        var out: [ServerMessage] = []
        for (i, text) in awkward.enumerated() {
            let welcome = ServerMessage.Welcome(
                sessionId: text, epoch: i == 0 ? .max : UInt64(i), concurrencyId: text + "c",
                heartbeat: .init(intervalMs: Int64(i) * 1000, timeoutMs: i == 1 ? .min : .max),
                serverTime: -Int64(i), resumeToken: "rt-" + text,
                reconnectGraceMs: i % 2 == 0 ? nil : 90_000,
                alternates: i % 3 == 0
                    ? nil : (i % 3 == 1 ? [] : [connect, .init(websocket: text, tcp: nil, http: text)]))
            out.append(.welcome(welcome))
            out.append(.kick(reason: text, retryAfterMs: i % 2 == 0 ? nil : Int64(i) * 250, connect: nil))
            out.append(.queued(ticketId: text, position: i, etaMs: i == 2 ? .max : Int64(i)))
            out.append(.offered(concurrencyId: text, reservedUntil: i == 3 ? .min : Int64(i)))
        }
        out.append(.kick(reason: "moved", retryAfterMs: nil, connect: connect))
        out.append(.pong(seq: .max, t: .min, st: 0))
        out.append(.ping(seq: 0, t: .max))
        return out
    }

    @Test func everyMessageReadsBackEqual() throws {
        for message in Self.messages {
            var w = JSONWriter()
            message.writeJSON(to: &w)
            let decoded = try JSONDecoder().decode(ServerMessage.self, from: Data(w.bytes))
            #expect(decoded == message, "\(w.text)")
            // The same bytes through the NIO path the client plane uses, and through `json`.
            var buffer = ByteBuffer()
            message.writeJSON(into: &buffer)
            #expect(Array(buffer.readableBytesView) == w.bytes)
            #expect(Array(message.json) == w.bytes)
        }
    }

    @Test func typeComesFirstAndNoMemberTwice() throws {
        for message in Self.messages {
            var w = JSONWriter()
            message.writeJSON(to: &w)
            guard case .object(_, let names) = try StrictJSONParser.parse(w.bytes) else {
                Issue.record("not an object: \(w.text)")
                continue
            }
            #expect(names.first == "type", "\(w.text)")
            #expect(Set(names).count == names.count, "\(w.text)")
        }
    }

    @Test func aWelcomeIsWrittenAsTheContractSaysWithNoneOfTheAbsentFields() {
        let welcome = ServerMessage.welcome(
            .init(
                sessionId: "s1", epoch: 2, concurrencyId: "c-3", heartbeat: .init(intervalMs: 5000, timeoutMs: 15000),
                serverTime: 1_700_000_000_000, resumeToken: "r"))
        #expect(
            String(decoding: welcome.json, as: UTF8.self)
                == #"{"type":"welcome","sessionId":"s1","epoch":2,"concurrencyId":"c-3","#
                + #""heartbeat":{"intervalMs":5000,"timeoutMs":15000},"serverTime":1700000000000,"resumeToken":"r"}"#)
    }
}
