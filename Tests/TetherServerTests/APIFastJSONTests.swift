import Foundation
import Testing
import TetherCore
import TetherProtocol
import TetherStore

@testable import TetherServer

/// The API's hand-written bodies (`JSONWriter`) and request readers (`FastDecodable`) against Foundation's
/// `JSONEncoder` and the strict decoder: the same JSON values, the same decoded requests.
@Suite struct APIFastJSONTests {
    static func sameJSON(_ a: [UInt8], _ b: Data) throws -> Bool {
        let x = try JSONSerialization.jsonObject(with: Data(a)) as? NSDictionary
        let y = try JSONSerialization.jsonObject(with: b) as? NSDictionary
        return x != nil && x == y
    }

    static func sessions() -> [Session] {
        var plain = Session(
            id: "s-1", projectId: "p \"quoted\"", userId: "u/1", concurrencyId: "cc-p-1", epoch: 3, state: .grace,
            createdAt: 1_700_000_000_000,
            metadata: SessionMetadata(userIp: "203.0.113.7", clientSession: "c\nline", runMode: "Run"))
        plain.updatedAt = 1_700_000_000_500
        plain.lastCause = .heartbeatTimeout
        plain.deadlineAt = 1_700_000_030_000
        plain.transport = .tcp
        plain.history = [
            HistoryEntry(at: 1, type: .sessionCreated, state: .created, epoch: 1),
            HistoryEntry(at: 2, type: .sessionDisconnected, state: .grace, epoch: 3, cause: .closed),
        ]
        var ended = Session(
            id: "s-2", projectId: "p", userId: "é🎉", concurrencyId: "cc-p-2", epoch: 1, state: .ended, createdAt: 5)
        ended.endReason = .destroyed
        ended.endedAt = 9
        ended.lastHeartbeatAt = 8
        return [plain, ended]
    }

    @Test func sessionBodiesMatchJSONEncoder() throws {
        for s in Self.sessions() {
            let dto = TetherAPI.Session(s)
            var w = JSONWriter()
            #expect(dto.writeJSON(into: &w))
            #expect(try Self.sameJSON(w.bytes, JSONEncoder().encode(dto)))
        }
        // Measured stats or parameters go through JSONEncoder.
        var s = Self.sessions()[0]
        s.metadata.parameters = #"{"level":3}"#
        var w = JSONWriter()
        #expect(!TetherAPI.Session(s).writeJSON(into: &w))
        #expect(w.bytes.isEmpty)
    }

    @Test func createdSessionAndAppliedMatchJSONEncoder() throws {
        for tcp in [nil, "tcp://h:3"] {
            let dto = TetherAPI.CreatedSession(
                sessionId: "s-1", userId: "u\t1", concurrencyId: "cc-p-1", epoch: 2, state: "created",
                clientToken: "v1.a.b", connect: .init(websocket: "ws://h:1/v1/connect", tcp: tcp, http: "http://h:2"),
                heartbeat: .init(intervalMs: 5_000, timeoutMs: 15_000), reconnectGraceMs: 30_000)
            var w = JSONWriter()
            dto.writeJSON(into: &w)
            #expect(try Self.sameJSON(w.bytes, JSONEncoder().encode(dto)))
        }
    }

    @Test func requestReadersMatchTheStrictDecoder() throws {
        // Usual bodies: the fast reader reads them, as the strict decoder does.
        let applies = [
            #"{"userId":"u-1"}"#, #"{ "userIp" : "1.2.3.4", "userId" : "u\"2", "other": [1, {"a": null}] }"#,
        ]
        for text in applies {
            var copy = text
            let fast = copy.withUTF8 { bytes -> TetherAPI.ApplyRequest? in
                var reader = JSONReader(bytes)
                return TetherAPI.ApplyRequest.read(&reader)
            }
            let slow = try StrictJSONDecoder().decode(TetherAPI.ApplyRequest.self, from: Array(text.utf8))
            #expect(fast?.userId == slow.userId && fast?.userIp == slow.userIp)
        }
        let creates = [
            #"{"userId":"u-1"}"#, #"{"userId":"u","userIp":"ip","clientSession":"c","runMode":"r","x":true}"#,
        ]
        for text in creates {
            var copy = text
            let fast = copy.withUTF8 { bytes -> TetherAPI.CreateSessionRequest? in
                var reader = JSONReader(bytes)
                return TetherAPI.CreateSessionRequest.read(&reader)
            }
            let slow = try StrictJSONDecoder().decode(TetherAPI.CreateSessionRequest.self, from: Array(text.utf8))
            #expect(fast?.userId == slow.userId && fast?.userIp == slow.userIp)
            #expect(fast?.clientSession == slow.clientSession && fast?.runMode == slow.runMode)
        }
        // What the strict decoder refuses, the fast readers do not read (they give up and leave the answer to it):
        // nulls, repeated members, trailing commas.
        for text in [
            #"{"userId":"u","userIp":null}"#, #"{"userId":"u","userId":"v"}"#, #"{"userId":"u","x":1,"x":2}"#,
            #"{"userId":"u",}"#,
        ] {
            var copy = text
            let fast = copy.withUTF8 { bytes -> TetherAPI.ApplyRequest? in
                var reader = JSONReader(bytes)
                return TetherAPI.ApplyRequest.read(&reader)
            }
            #expect(fast == nil, "\(text)")
            #expect(throws: StrictJSONError.self) {
                try StrictJSONDecoder().decode(TetherAPI.ApplyRequest.self, from: Array(text.utf8))
            }
        }
        for text in [#"{"userId":"u","runMode":null}"#, #"{"userId":"u","clientSession":"a","clientSession":"b"}"#] {
            var copy = text
            let fast = copy.withUTF8 { bytes -> TetherAPI.CreateSessionRequest? in
                var reader = JSONReader(bytes)
                return TetherAPI.CreateSessionRequest.read(&reader)
            }
            #expect(fast == nil, "\(text)")
            #expect(throws: StrictJSONError.self) {
                try StrictJSONDecoder().decode(TetherAPI.CreateSessionRequest.self, from: Array(text.utf8))
            }
        }
        // What the fast readers leave to the strict decoder: missing or mistyped fields, parameters.
        for text in [#"{"userIp":"x"}"#, #"{"userId":7}"#, #"{"userId":"u","parameters":{"a":1}}"#, "[]"] {
            var copy = text
            let fast = copy.withUTF8 { bytes -> TetherAPI.CreateSessionRequest? in
                var reader = JSONReader(bytes)
                return TetherAPI.CreateSessionRequest.read(&reader)
            }
            #expect(fast == nil)
        }
    }

    @Test func hexAndBase64URL() {
        #expect(Secrets.hex([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Secrets.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        for count in 0..<40 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == expected)
        }
    }

    @Test func base64URLDecodesWhatItEncodesAndOnlyThat() throws {
        for count in 0..<40 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Substring(Base64URL.encode(bytes))).map(Array.init) == bytes)
        }
        #expect(Base64URL.decode("-_-_") == Data([0xfb, 0xff, 0xbf]))
        // The standard alphabet, padding, a stray character, and non-ASCII are not base64url.
        for text in ["+/+/", "AA==", "AAA=", "AA AA", "AAé", "AA\n"] {
            #expect(Base64URL.decode(Substring(text)) == nil, "\(text)")
        }
        // One character over a multiple of four encodes no whole byte.
        #expect(Base64URL.decode("A") == nil && Base64URL.decode("AAAAA") == nil)
        // Bits past the last byte must be zero: one byte string has one spelling.
        #expect(Base64URL.decode("AA") == Data([0]) && Base64URL.decode("AB") == nil)
        #expect(Base64URL.decode("AAA") == Data([0, 0]) && Base64URL.decode("AAB") == nil)
        #expect(Base64URL.decode(Substring(String(repeating: "A", count: 4096))) == nil)
    }

    @Test func aTokenSpelledAnotherWayDoesNotVerify() throws {
        let signer = TokenSigner(secret: Array(repeating: 7, count: 32))
        let token = signer.token(session: "s-1", epoch: 1, expiresAt: 1_000)
        #expect(signer.verify(token, now: 999) != nil)
        // The MAC's last character carries 2 spare bits (32 bytes → 43 characters): setting one spells the
        // same MAC another way, which is refused.
        var parts = token.split(separator: ".").map(String.init)
        let mac = try #require(parts.last)
        let last = try #require(mac.last)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let index = try #require(alphabet.firstIndex(of: last))
        parts[parts.count - 1] = String(mac.dropLast()) + String(alphabet[index ^ 1])
        #expect(signer.verify(parts.joined(separator: "."), now: 999) == nil)
        // The standard alphabet's spelling of a URL-alphabet MAC is refused too.
        let standard = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        if standard != token { #expect(signer.verify(standard, now: 999) == nil) }
    }

    @Test func randomBytesHaveTheCountAskedFor() {
        for count in [0, 1, 7, 8, 9, 16, 32, 33] { #expect(Secrets.randomBytes(count).count == count) }
        #expect(Secrets.randomBytes(32) != Secrets.randomBytes(32))
    }

    @Test func tokensStillVerify() {
        let signer = TokenSigner(secret: Array(repeating: 7, count: 32))
        let token = signer.token(session: "s-\"x\"", epoch: 4, expiresAt: 1_000)
        #expect(signer.verify(token, now: 999) == TokenSigner.Claims(s: "s-\"x\"", e: 4, x: 1_000))
        #expect(signer.verify(token, now: 1_000) == nil)
    }
}
