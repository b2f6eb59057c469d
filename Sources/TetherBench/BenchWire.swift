import Foundation
import Glibc
import NIOCore
import TetherProtocol

/// The bytes a load client speaks, written by hand so that the load generator stays cheap: WebSocket frames
/// as a client sends them (masked, with an all-zero key so the payload goes out unchanged, which RFC 6455
/// allows), server WebSocket frames, TCP frames (`u32 length | u8 type | JSON`), and the JSON messages.
enum BenchWire {
    /// WebSocket opcodes used here.
    enum Opcode {
        static let text: UInt8 = 0x1
        static let close: UInt8 = 0x8
        static let ping: UInt8 = 0x9
        static let pong: UInt8 = 0xA
    }

    /// The wire broke its own rules (a frame the benchmark cannot read).
    struct Malformed: Error, Equatable {
        var what: String
    }

    /// One WebSocket frame from the server.
    struct WebSocketFrame: Equatable {
        var fin: Bool
        var opcode: UInt8
        var payload: ByteBuffer
    }

    /// Writes a client WebSocket frame (FIN set, masked with the zero key).
    static func writeWebSocketFrame(opcode: UInt8, payload: ByteBuffer, into out: inout ByteBuffer) {
        out.writeInteger(0x80 | opcode)
        let n = payload.readableBytes
        if n < 126 {
            out.writeInteger(0x80 | UInt8(n))
        } else if n <= 0xFFFF {
            out.writeInteger(UInt8(0x80 | 126))
            out.writeInteger(UInt16(n))
        } else {
            out.writeInteger(UInt8(0x80 | 127))
            out.writeInteger(UInt64(n))
        }
        out.writeInteger(UInt32(0))  // the masking key: XOR with zeros leaves the payload as it is
        out.writeImmutableBuffer(payload)
    }

    /// Reads one complete WebSocket frame, or `nil` (and nothing consumed) when more bytes are needed.
    /// A masked frame is unmasked.
    static func readWebSocketFrame(_ buffer: inout ByteBuffer) throws(Malformed) -> WebSocketFrame? {
        let start = buffer.readerIndex
        guard let b0 = buffer.getInteger(at: start, as: UInt8.self),
            let b1 = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        var header = 2
        var length = Int(b1 & 0x7F)
        if length == 126 {
            guard let l = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(l)
            header += 2
        } else if length == 127 {
            guard let l = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            guard l <= 1 << 24 else { throw Malformed(what: "WebSocket frame of \(l) bytes") }
            length = Int(l)
            header += 8
        }
        let masked = b1 & 0x80 != 0
        var mask: [UInt8] = []
        if masked {
            guard let m = buffer.getBytes(at: start + header, length: 4) else { return nil }
            mask = m
            header += 4
        }
        guard buffer.readableBytes >= header + length else { return nil }
        buffer.moveReaderIndex(forwardBy: header)
        var payload = buffer.readSlice(length: length)!
        if masked {
            var bytes = payload.readBytes(length: length)!
            for i in bytes.indices { bytes[i] ^= mask[i % 4] }
            payload = ByteBuffer(bytes: bytes)
        }
        return WebSocketFrame(fin: b0 & 0x80 != 0, opcode: b0 & 0x0F, payload: payload)
    }

    /// Writes a TCP frame.
    static func writeTCPFrame(type: UInt8, payload: ByteBuffer, into out: inout ByteBuffer) {
        out.writeInteger(UInt32(payload.readableBytes + 1))
        out.writeInteger(type)
        out.writeImmutableBuffer(payload)
    }

    /// Reads one complete TCP frame, or `nil` (and nothing consumed) when more bytes are needed.
    static func readTCPFrame(_ buffer: inout ByteBuffer) throws(Malformed) -> (type: UInt8, payload: ByteBuffer)? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1, length <= 1 << 20 else { throw Malformed(what: "TCP frame length \(length)") }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        let type = buffer.readInteger(as: UInt8.self)!
        return (type, buffer.readSlice(length: Int(length) - 1)!)
    }

    // MARK: - JSON messages

    /// `{"type":"ping","seq":N,"t":T}`.
    static func writePing(seq: UInt64, t: Int64, into out: inout ByteBuffer) {
        out.writeStaticString(#"{"type":"ping","seq":"#)
        ServerMessage.writeDecimal(seq, into: &out)
        out.writeStaticString(#","t":"#)
        ServerMessage.writeDecimal(UInt64(max(0, t)), into: &out)
        out.writeStaticString("}")
    }

    /// `{"type":"pong","seq":N,"t":T}`: the answer to a TCP server ping.
    static func writePong(seq: UInt64, t: Int64, into out: inout ByteBuffer) {
        out.writeStaticString(#"{"type":"pong","seq":"#)
        ServerMessage.writeDecimal(seq, into: &out)
        out.writeStaticString(#","t":"#)
        ServerMessage.writeDecimal(UInt64(max(0, t)), into: &out)
        out.writeStaticString("}")
    }

}

/// Finds the value of one top-level-looking key in a small JSON object by scanning its bytes for
/// `"key":`. Good enough for the server's flat messages, where no string value contains that pattern;
/// not a JSON parser.
enum JSONScan {
    /// The string value of `key`, without unescaping (the values read here have no escapes).
    static func string<C: RandomAccessCollection<UInt8>>(_ key: String, in all: C) -> String?
    where C.Index == Int {
        guard var i = valueStart(key, in: all), i < all.endIndex, all[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        var end = i
        while end < all.endIndex && all[end] != UInt8(ascii: "\"") {
            if all[end] == UInt8(ascii: "\\") { end += 1 }
            end += 1
        }
        guard end < all.endIndex else { return nil }
        return String(decoding: all[i..<end], as: UTF8.self)
    }

    /// The integer value of `key`.
    static func integer<C: RandomAccessCollection<UInt8>>(_ key: String, in all: C) -> Int64?
    where C.Index == Int {
        guard var i = valueStart(key, in: all), i < all.endIndex else { return nil }
        var negative = false
        if all[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var value: Int64 = 0
        var digits = 0
        while i < all.endIndex, all[i] >= UInt8(ascii: "0"), all[i] <= UInt8(ascii: "9") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(all[i] - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = a
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        return negative ? -value : value
    }

    /// The index just after `"key":` (and any spaces), or `nil`.
    private static func valueStart<C: RandomAccessCollection<UInt8>>(_ key: String, in all: C) -> Int?
    where C.Index == Int {
        let pattern = Array("\"\(key)\"".utf8)
        var i = all.startIndex
        while i + pattern.count <= all.endIndex {
            if all[i] == pattern[0] && all[i..<i + pattern.count].elementsEqual(pattern) {
                var j = i + pattern.count
                while j < all.endIndex && all[j] == UInt8(ascii: " ") { j += 1 }
                if j < all.endIndex && all[j] == UInt8(ascii: ":") {
                    j += 1
                    while j < all.endIndex && all[j] == UInt8(ascii: " ") { j += 1 }
                    return j
                }
            }
            i += 1
        }
        return nil
    }
}

/// Addresses the load connects to.
enum BenchAddress {
    /// Linux's `IP_BIND_ADDRESS_NO_PORT` (24): a socket bound to a source address gets its port at `connect`,
    /// where only the whole address pair has to be unique. Without it each `bind(source, 0)` searched the
    /// source's ports for one no other socket held, TIME_WAIT ones included: a `storm` worker that reconnected
    /// 4 750 clients right after an earlier run spent 5–6 s of system time in the kernel's bind-conflict check
    /// (`inet_bhash2_conflict`), and the run's p99 went from ~4.7 to 8–10 s (docs/PERFORMANCE.md).
    static let bindAddressNoPort = ChannelOptions.Types.SocketOption(level: .ip, name: .init(rawValue: 24))

    /// 127.0.0.1:`port`, made without a resolver: connecting by host name went through `getaddrinfo` and Happy
    /// Eyeballs on every connect, ~20 % of a `storm` worker's CPU while its clients came back.
    static func loopback(port: Int) -> SocketAddress {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        return SocketAddress(address, host: "127.0.0.1")
    }
}
