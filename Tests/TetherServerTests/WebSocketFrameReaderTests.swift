import NIOCore
import NIOWebSocket
import Testing
import TetherProtocol

@testable import TetherServer

/// RFC 6455's framing as the server reads it, without a socket: frames whole or cut anywhere, fragments
/// reassembled, control frames between fragments, each fault with its close code found as soon as the header
/// shows it, nothing read after a fault; and the server's frames as a client reads them.
@Suite struct WebSocketFrameReaderTests {
    static let key: [UInt8] = [0x11, 0x22, 0x33, 0x44]

    /// A client frame: `first` (FIN, RSV, opcode), the length in the shortest form unless `lengthForm` says
    /// 126 or 127, masked with ``key`` unless `masked` is false.
    static func frame(_ first: UInt8, _ payload: [UInt8], masked: Bool = true, lengthForm: Int? = nil) -> [UInt8] {
        var bytes = [first]
        let mask: UInt8 = masked ? 0x80 : 0
        switch lengthForm ?? (payload.count < 126 ? 0 : payload.count <= 0xFFFF ? 126 : 127) {
        case 126: bytes += [mask | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        case 127: bytes += [mask | 127] + (0..<8).reversed().map { UInt8((UInt64(payload.count) >> ($0 * 8)) & 0xFF) }
        default: bytes += [mask | UInt8(payload.count)]
        }
        guard masked else { return bytes + payload }
        return bytes + key + payload.enumerated().map { $0.element ^ key[$0.offset & 3] }
    }

    static let fin: UInt8 = 0x80
    static let hello = Array(#"{"type":"ping","seq":1,"t":2}"#.utf8)

    /// What the reader makes of `bytes` fed in chunks of `chunk` bytes (as a handler does: what is not read
    /// yet is kept and the next chunk appended), each message's payload unmasked.
    static func read(_ bytes: [UInt8], chunk: Int = Int.max, reader: inout WebSocketFrameReader) -> [Item] {
        var items: [Item] = []
        var pending = ByteBuffer()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + max(1, min(chunk, bytes.count)))
            pending.writeBytes(bytes[offset..<end])
            offset = end
            while let input = reader.read(&pending) { items.append(Item(input)) }
        }
        return items
    }

    static func read(_ bytes: [UInt8], chunk: Int = Int.max) -> [Item] {
        var reader = WebSocketFrameReader()
        return read(bytes, chunk: chunk, reader: &reader)
    }

    /// An input with its payload unmasked, to compare.
    enum Item: Equatable {
        case message([UInt8])
        case ping([UInt8])
        case pong([UInt8])
        case close([UInt8])
        case violation(UInt16)
        case tooLarge

        init(_ input: WebSocketInput) {
            switch input {
            case .message(var payload, let key):
                if let key { payload.webSocketUnmask(key) }
                self = .message(Array(payload.readableBytesView))
            case .ping(let b): self = .ping(Array(b.readableBytesView))
            case .pong(let b): self = .pong(Array(b.readableBytesView))
            case .close(let b): self = .close(Array(b.readableBytesView))
            case .violation(let v): self = .violation(v.code.rawValue)
            case .tooLarge: self = .tooLarge
            }
        }
    }

    @Test func aWholeMessageCutAnywhereIsOneMessage() {
        let bytes =
            Self.frame(Self.fin | 0x1, Self.hello) + Self.frame(Self.fin | 0x9, [7])
            + Self.frame(Self.fin | 0x2, [1, 2])
        let expected: [Item] = [.message(Self.hello), .ping([7]), .message([1, 2])]
        for chunk in 1...bytes.count {
            #expect(Self.read(bytes, chunk: chunk) == expected, "chunks of \(chunk)")
        }
    }

    @Test func anUnfragmentedMessageStaysMaskedForTheDecoder() throws {
        var buffer = ByteBuffer(bytes: Self.frame(Self.fin | 0x1, Self.hello))
        var reader = WebSocketFrameReader()
        guard case .message(let payload, let key) = reader.read(&buffer) else {
            Issue.record("no message")
            return
        }
        #expect(key == WebSocketMaskingKey(Self.key))
        let decoded = try WebSocketClientHandler.decode(payload, maskKey: key).get()
        #expect(decoded == ClientMessage.ping(seq: 1, t: 2))
        #expect(buffer.readableBytes == 0)
    }

    @Test func lengthsInEveryForm() {
        let mid = [UInt8](repeating: 0x61, count: 300)
        let big = [UInt8](repeating: 0x62, count: 70_000)
        var reader = WebSocketFrameReader(maxPayload: 100_000)
        #expect(
            Self.read(Self.frame(Self.fin | 0x2, mid) + Self.frame(Self.fin | 0x2, big), reader: &reader)
                == [.message(mid), .message(big)])
        // RFC 6455 asks for the shortest form; NIO's decoder took the longer ones too, and so does the reader.
        #expect(Self.read(Self.frame(Self.fin | 0x1, Self.hello, lengthForm: 126)) == [.message(Self.hello)])
        #expect(Self.read(Self.frame(Self.fin | 0x1, Self.hello, lengthForm: 127)) == [.message(Self.hello)])
        #expect(Self.read(Self.frame(Self.fin | 0x1, [])) == [.message([])])
    }

    @Test func fragmentsAreReassembledWithControlFramesBetween() {
        let text = Array("a € split".utf8)
        let cut = 4  // inside the euro sign
        let bytes =
            Self.frame(0x1, Array(text[..<cut])) + Self.frame(Self.fin | 0xA, [1, 2, 3, 4, 5, 6, 7, 8])
            + Self.frame(0x0, []) + Self.frame(Self.fin | 0x0, Array(text[cut...]))
        for chunk in [1, 3, bytes.count] {
            #expect(Self.read(bytes, chunk: chunk) == [.pong([1, 2, 3, 4, 5, 6, 7, 8]), .message(text)])
        }
    }

    @Test func closeFrames() {
        #expect(Self.read(Self.frame(Self.fin | 0x8, [])) == [.close([])])
        #expect(
            Self.read(Self.frame(Self.fin | 0x8, [0x10, 0xE1] + Array("bye".utf8))) == [
                .close([0x10, 0xE1] + Array("bye".utf8))
            ])
    }

    /// Every fault, with the close code it means (1009: too large).
    static let faults: [(String, [UInt8], Item)] = [
        ("unmasked", frame(fin | 0x1, hello, masked: false), .violation(1002)),
        ("rsv1", frame(fin | 0x40 | 0x1, hello), .violation(1002)),
        ("rsv2", frame(fin | 0x20 | 0x1, hello), .violation(1002)),
        ("rsv3", frame(fin | 0x10 | 0x1, hello), .violation(1002)),
        ("reserved data opcode", frame(fin | 0x3, hello), .violation(1002)),
        ("reserved control opcode", frame(fin | 0xB, []), .violation(1002)),
        ("continuation first", frame(fin | 0x0, hello), .violation(1002)),
        ("new message inside one", frame(0x1, [0x61]) + frame(fin | 0x2, [0x62]), .violation(1002)),
        ("fragmented ping", frame(0x9, [1]), .violation(1002)),
        ("ping over 125", frame(fin | 0x9, [UInt8](repeating: 1, count: 126)), .violation(1002)),
        ("close of one byte", frame(fin | 0x8, [3]), .violation(1002)),
        ("close code 1005", frame(fin | 0x8, [0x03, 0xED]), .violation(1002)),
        ("close code 999", frame(fin | 0x8, [0x03, 0xE7]), .violation(1002)),
        ("close reason not UTF-8", frame(fin | 0x8, [0x03, 0xE8, 0xFF]), .violation(1007)),
        ("text not UTF-8", frame(fin | 0x1, [0x22, 0xC3, 0x28]), .violation(1007)),
        ("text cut inside a character", frame(fin | 0x1, [0x22, 0xE2, 0x82]), .violation(1007)),
        ("bad UTF-8 across fragments", frame(0x1, [0xE2]) + frame(fin | 0x0, [0x28]), .violation(1007)),
        ("frame over 64 KiB", frame(fin | 0x2, [UInt8](repeating: 0, count: FrameLimits.maxPayload + 1)), .tooLarge),
        (
            "message over 64 KiB in fragments",
            frame(0x2, [UInt8](repeating: 0, count: 40_000)) + frame(fin | 0x0, [UInt8](repeating: 0, count: 40_000)),
            .tooLarge
        ),
        (
            "65 fragments", (0..<64).flatMap { i in frame(i == 0 ? 0x1 : 0x0, [0x61]) } + frame(fin | 0x0, [0x61]),
            .tooLarge
        ),
    ]

    @Test func eachFaultIsFoundAndNothingIsReadAfterIt() {
        let after = Self.frame(Self.fin | 0x1, Self.hello)
        for (name, bytes, expected) in Self.faults {
            for chunk in [1, 7, Int.max] {
                #expect(Self.read(bytes + after, chunk: chunk) == [expected], "\(name), chunks of \(chunk)")
            }
        }
    }

    /// A header that says too much is refused before its payload arrives (a client cannot make the server
    /// wait for, or keep, 2^63 bytes).
    @Test func anOversizedHeaderIsRefusedAtOnce() {
        #expect(Self.read([Self.fin | 0x2, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0] + Self.key) == [.tooLarge])
        #expect(Self.read([Self.fin | 0x2, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0, 1] + Self.key) == [.tooLarge])
        #expect(Self.read([Self.fin | 0x9, 0x80 | 126, 0, 126] + Self.key) == [.violation(1002)])
        var reader = WebSocketFrameReader()
        var partial = ByteBuffer(bytes: [Self.fin | 0x1, 0x80 | 10] + Self.key + [0x61])
        #expect(reader.read(&partial) == nil && partial.readableBytes == 7, "a part of a frame is left unread")
    }

    /// A close frame is a control frame: its reason is cut to fit 125 bytes with the code, between characters.
    @Test func aCloseReasonFitsAControlFrame() {
        #expect(WebSocketClientHandler.closeReason("bye") == "bye")
        let long = String(repeating: "é", count: 100)  // 200 bytes
        let cut = WebSocketClientHandler.closeReason(long)
        #expect(cut.utf8.count == 122 && cut == String(repeating: "é", count: 61))
        #expect(WebSocketClientHandler.closeReason(String(repeating: "a", count: 130)).utf8.count == 123)
    }

    @Test func serverFramesAreFinalUnmaskedAndShortestLength() {
        for length in [0, 1, 125, 126, 300, 65_535, 65_536] {
            let payload = ByteBuffer(repeating: 0x61, count: length)
            var frame = WebSocketServerFrame.make(.text, payload: payload, allocator: ByteBufferAllocator())
            let header = WebSocketFrameReader.header(frame)
            #expect(header?.fin == true && header?.opcode == 0x1 && header?.maskKey == nil && header?.length == length)
            #expect(header?.size == (length < 126 ? 2 : length <= 0xFFFF ? 4 : 10), "length \(length)")
            frame.moveReaderIndex(forwardBy: header?.size ?? 0)
            #expect(frame == payload)
        }
        let ping = WebSocketServerFrame.make(.ping, allocator: ByteBufferAllocator(), capacity: 8) {
            $0.writeInteger(UInt64(9))
        }
        #expect(Array(ping.readableBytesView) == [0x89, 8, 0, 0, 0, 0, 0, 0, 0, 9])
    }
}
