import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Testing
import TetherProtocol

@testable import TetherServer

/// The pieces of the RFC 6455 checks on their own: UTF-8 fed a chunk at a time, close codes, handshakes.
@Suite struct WebSocketCheckTests {
    static func valid(_ chunks: [[UInt8]], masked: Bool = false) -> Bool {
        var validator = UTF8Validator()
        let key: WebSocketMaskingKey = [0x0F, 0xF0, 0x55, 0xAA]
        for chunk in chunks {
            let bytes = masked ? chunk.enumerated().map { $0.element ^ key[$0.offset & 3] } : chunk
            guard validator.feed(ByteBuffer(bytes: bytes), maskKey: masked ? key : nil) else { return false }
        }
        return validator.isComplete
    }

    @Test func utf8() {
        #expect(Self.valid([Array("plain ascii".utf8)]))
        #expect(Self.valid([Array("κόσμε € 𝄞".utf8)]))
        #expect(Self.valid([Array("κόσμε € 𝄞".utf8)], masked: true))
        #expect(Self.valid([[0xE2], [0x82], [0xAC]]))  // € one byte per fragment
        #expect(Self.valid([[0xF4, 0x8F, 0xBF, 0xBF]]))  // U+10FFFF
        #expect(!Self.valid([[0xC3, 0x28]]))
        #expect(!Self.valid([[0xC0, 0xAF]]))  // overlong '/'
        #expect(!Self.valid([[0xE0, 0x80, 0xAF]]))  // overlong
        #expect(!Self.valid([[0xED, 0xA0, 0x80]]))  // a surrogate
        #expect(!Self.valid([[0xF4, 0x90, 0x80, 0x80]]))  // above U+10FFFF
        #expect(!Self.valid([[0xFF]]))
        #expect(!Self.valid([[0xE2, 0x82]]))  // cut short at the end
        #expect(
            !Self.valid([
                [0xCE, 0xBA, 0xE1], [0xBD, 0xB9, 0xCF], [0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED], [0xA0, 0x80],
            ]))
    }

    @Test func closeCodesFromAPeer() {
        for code: UInt16 in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
        ] {
            #expect(CloseCode(rawValue: code).isValidFromPeer, "\(code)")
        }
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 13069, 65535] {
            #expect(!CloseCode(rawValue: code).isValidFromPeer, "\(code)")
        }
    }

    static func head(_ edit: (inout HTTPRequestHead) -> Void = { _ in }) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v1/connect?sdk=swift")
        head.headers.add(name: "Upgrade", value: "WebSocket")
        head.headers.add(name: "Connection", value: "keep-alive, Upgrade")
        head.headers.add(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
        head.headers.add(name: "Sec-WebSocket-Version", value: "13")
        edit(&head)
        return head
    }

    @Test func handshakes() {
        #expect(WebSocketHandshake.refusal(Self.head()) == nil)
        #expect(WebSocketHandshake.isConnectPath("/v1/connect?x=1"))
        #expect(!WebSocketHandshake.isConnectPath("/v1/connectx"))
        let version = WebSocketHandshake.refusal(
            Self.head { $0.headers.replaceOrAdd(name: "Sec-WebSocket-Version", value: "8") })
        #expect(version?.status == .upgradeRequired)
        #expect(version?.headers.first?.0 == "Sec-WebSocket-Version" && version?.headers.first?.1 == "13")
        let refusals: [(inout HTTPRequestHead) -> Void] = [
            { $0.headers.replaceOrAdd(name: "Sec-WebSocket-Key", value: "%%%") },
            { $0.headers.replaceOrAdd(name: "Sec-WebSocket-Key", value: "AAAA") },
            { $0.headers.remove(name: "Sec-WebSocket-Key") },
            { $0.headers.replaceOrAdd(name: "Upgrade", value: "h2c") },
            { $0.headers.replaceOrAdd(name: "Connection", value: "close") },
            { $0.version = .http1_0 },
        ]
        for edit in refusals { #expect(WebSocketHandshake.refusal(Self.head(edit))?.status == .badRequest) }
        #expect(WebSocketHandshake.refusal(Self.head { $0.method = .POST })?.status == .methodNotAllowed)
    }
}
