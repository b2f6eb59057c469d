import Foundation
import NIOCore
import NIOWebSocket
import Testing
import TetherProtocol
import TetherServer
import TetherTestKit

/// RFC 6455 on the client port, each case beside a healthy WebSocket and a healthy TCP client that keep
/// heartbeating (``AbuseTests/withNeighbours(_:)``): frames the RFC forbids fail the connection with 1002
/// (protocol error) or 1007 (invalid UTF-8), and the attacker's session goes to grace with cause `error`;
/// refused handshakes are answered 400, 405 or 426 (with `Sec-WebSocket-Version: 13`) in the API's error
/// shape, and closed.
@Suite struct WebSocketRFCTests {
    /// A client frame with any first byte; masked with a fixed key unless `masked` is false.
    static func frame(_ firstByte: UInt8, _ payload: [UInt8], masked: Bool = true) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(firstByte)
        let key: [UInt8] = [0x11, 0x22, 0x33, 0x44]
        switch payload.count {
        case 0..<126: buffer.writeInteger(UInt8(masked ? 0x80 : 0) | UInt8(payload.count))
        default:
            buffer.writeInteger(UInt8(masked ? 0x80 : 0) | 126)
            buffer.writeInteger(UInt16(payload.count))
        }
        if masked {
            buffer.writeBytes(key)
            buffer.writeBytes(payload.enumerated().map { $0.element ^ key[$0.offset & 3] })
        } else {
            buffer.writeBytes(payload)
        }
        return buffer
    }

    static let fin: UInt8 = 0x80
    static let ping = Array(ClientMessage.ping(seq: 1, t: 1).json)

    /// A close frame's payload: the code, then the reason's bytes.
    static func closePayload(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
    }

    enum Violation: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case unmaskedFrame, rsv1, rsv2, rsv3, reservedDataOpcode, reservedControlOpcode, continuationWithoutStart
        case newMessageInsideFragmented, closeCode999, closeCode1005, closeCode13069, closeOneByte
        case pingOver125Bytes, fragmentedPing, invalidUTF8Text, invalidUTF8AcrossFragments, invalidUTF8CloseReason
        case truncatedUTF8AtEnd
        var testDescription: String { rawValue }

        /// The bytes to send and the close code expected.
        var attack: (bytes: ByteBuffer, code: UInt16) {
            let f = WebSocketRFCTests.self
            switch self {
            case .unmaskedFrame: return (f.frame(f.fin | 0x1, f.ping, masked: false), 1002)
            case .rsv1: return (f.frame(f.fin | 0x40 | 0x1, f.ping), 1002)
            case .rsv2: return (f.frame(f.fin | 0x20 | 0x1, f.ping), 1002)
            case .rsv3: return (f.frame(f.fin | 0x10 | 0x1, f.ping), 1002)
            case .reservedDataOpcode: return (f.frame(f.fin | 0x3, f.ping), 1002)
            case .reservedControlOpcode: return (f.frame(f.fin | 0xB, []), 1002)
            case .continuationWithoutStart: return (f.frame(f.fin | 0x0, f.ping), 1002)
            case .newMessageInsideFragmented:
                var bytes = f.frame(0x1, Array(f.ping[0..<5]))
                bytes.writeImmutableBuffer(f.frame(f.fin | 0x1, f.ping))
                return (bytes, 1002)
            case .closeCode999: return (f.frame(f.fin | 0x8, f.closePayload(999)), 1002)
            case .closeCode1005: return (f.frame(f.fin | 0x8, f.closePayload(1005)), 1002)
            case .closeCode13069: return (f.frame(f.fin | 0x8, f.closePayload(13069)), 1002)
            case .closeOneByte: return (f.frame(f.fin | 0x8, [0x03]), 1002)
            case .pingOver125Bytes: return (f.frame(f.fin | 0x9, [UInt8](repeating: 0x61, count: 126)), 1002)
            case .fragmentedPing: return (f.frame(0x9, [0x61]), 1002)
            case .invalidUTF8Text: return (f.frame(f.fin | 0x1, [0x22, 0xC3, 0x28, 0x22]), 1007)
            case .invalidUTF8AcrossFragments:
                // "€" is E2 82 AC; E2 then 28 is not UTF-8 whichever fragment it is in.
                var bytes = f.frame(0x1, [0x22, 0xE2])
                bytes.writeImmutableBuffer(f.frame(f.fin | 0x0, [0x28, 0x22]))
                return (bytes, 1007)
            case .invalidUTF8CloseReason: return (f.frame(f.fin | 0x8, f.closePayload(1000, [0xFF, 0xFE])), 1007)
            case .truncatedUTF8AtEnd: return (f.frame(f.fin | 0x1, [0x22, 0xE2, 0x82]), 1007)
            }
        }
    }

    @Test(.serialized, arguments: Violation.allCases)
    func aForbiddenFrameFailsTheConnection(_ violation: Violation) async throws {
        try await AbuseTests.withNeighbours { h in
            let (client, c) = try await AbuseTests.attached(h, .websocket)
            let ws = try #require(client as? WebSocketTestClient)
            let (bytes, code) = violation.attack
            try? await ws.send(raw: bytes)
            await expectProtocolClose(ws, code: code, tcpReason: "")
            try await AbuseTests.expectGrace(h, c, causes: ["error"])
        }
    }

    /// Control frames between fragments, a character split across fragments, a close code from the private
    /// range: all served.
    @Test func whatTheRFCAllowsIsServed() async throws {
        try await AbuseTests.withNeighbours { h in
            let (client, c) = try await AbuseTests.attached(h, .websocket)
            let ws = try #require(client as? WebSocketTestClient)
            let json = Array(ClientMessage.ping(seq: 5, t: 1).json)
            var bytes = Self.frame(0x1, Array(json[..<6]))
            bytes.writeImmutableBuffer(Self.frame(Self.fin | 0x9, [0x01]))  // a ping between the fragments
            bytes.writeImmutableBuffer(Self.frame(Self.fin | 0x0, Array(json[6...])))
            try await ws.send(raw: bytes)
            let pong = await ws.inbox.wait(for: "pong")
            #expect(pong?["seq"].int == 5, "\(ws.inbox.snapshot)")
            try await ws.send(raw: Self.frame(Self.fin | 0x8, Self.closePayload(4321, Array("bye".utf8))))
            #expect(await ws.inbox.waitClosed())
            #expect(ws.inbox.closeCode == 4321, "the close code was not echoed: \(ws.inbox.snapshot)")
            let session = try await h.wait(c.sessionId, state: "grace")
            #expect(session["lastCause"].string == "closed")

            // A euro sign (E2 82 AC) cut between two fragments is UTF-8: the hello reaches the token check.
            let fresh = try #require(try await h.connect(.websocket) as? WebSocketTestClient)
            let hello = Array(#"{"type":"hello","token":"v1.€"}"#.utf8)
            let cut = hello.count - 3  // between the 82 and the AC
            var split = Self.frame(0x1, Array(hello[..<cut]))
            split.writeImmutableBuffer(Self.frame(Self.fin | 0x0, Array(hello[cut...])))
            try await fresh.send(raw: split)
            await expectKick(fresh, reason: "badToken", code: 4001)
        }
    }

    // MARK: - Handshakes

    enum BadHandshake: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case version8, noVersion, wrongUpgrade, noUpgrade, noConnectionUpgrade, nonBase64Key, shortKey, noKey,
            twoKeys, post, http10
        var testDescription: String { rawValue }

        /// The request and the status expected.
        var request: (text: String, status: Int) {
            let key = "dGhlIHNhbXBsZSBub25jZQ=="
            var method = "GET"
            var version = "HTTP/1.1"
            var headers = [
                ("Host", "127.0.0.1"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13"),
            ]
            func set(_ name: String, _ value: String?) {
                headers.removeAll { $0.0 == name }
                if let value { headers.append((name, value)) }
            }
            var status = 400
            switch self {
            case .version8:
                set("Sec-WebSocket-Version", "8")
                status = 426
            case .noVersion:
                set("Sec-WebSocket-Version", nil)
                status = 426
            case .wrongUpgrade: set("Upgrade", "h2c")
            case .noUpgrade: set("Upgrade", nil)
            case .noConnectionUpgrade: set("Connection", "keep-alive")
            case .nonBase64Key: set("Sec-WebSocket-Key", "this is not base64!!")
            case .shortKey: set("Sec-WebSocket-Key", Data(repeating: 7, count: 15).base64EncodedString())
            case .noKey: set("Sec-WebSocket-Key", nil)
            case .twoKeys: headers.append(("Sec-WebSocket-Key", key))
            case .post:
                method = "POST"
                headers.append(("Content-Length", "0"))
                status = 405
            case .http10: version = "HTTP/1.0"
            }
            let lines = ["\(method) /v1/connect \(version)"] + headers.map { "\($0.0): \($0.1)" }
            return (lines.joined(separator: "\r\n") + "\r\n\r\n", status)
        }
    }

    @Test(.serialized, arguments: BadHandshake.allCases)
    func aBadHandshakeIsRefusedAndClosed(_ handshake: BadHandshake) async throws {
        try await AbuseTests.withNeighbours { h in
            let socket = try RawSocket(port: h.clientPort)
            let (request, status) = handshake.request
            socket.send(request)
            #expect(await socket.waitClosed(), "the connection was left open after the refusal")
            let response = try #require(
                socket.response, "no response: \(String(decoding: socket.received, as: UTF8.self))")
            #expect(response.status == status, "\(response)")
            #expect(response.headers["connection"] == "close")
            #expect(response.error != nil, "not the API's error shape: \(response.body)")
            if status == 426 { #expect(response.headers["sec-websocket-version"] == "13", "\(response.headers)") }
        }
    }

    /// The sample handshake of RFC 6455 §1.3 is accepted, with the RFC's accept value.
    @Test func theRFCsSampleHandshakeUpgrades() async throws {
        try await PlaneHarness.run { h in
            let socket = try RawSocket(port: h.clientPort)
            socket.send(BadHandshake.version8.request.text.replacingOccurrences(of: "Version: 8", with: "Version: 13"))
            #expect(await socket.waitReceived { RawHTTPResponse($0) != nil })
            let response = try #require(socket.response)
            #expect(response.status == 101)
            #expect(response.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        }
    }
}
