import Foundation
import NIOCore

extension ServerMessage {
    /// Writes the message's JSON into `buffer`. `pong` and `ping`, sent for every heartbeat, are written
    /// directly as `{"type":"pong","seq":N,"t":T,"st":S}` (no Foundation, no allocation beyond the buffer);
    /// the others go through ``json``.
    public func writeJSON(into buffer: inout ByteBuffer) {
        switch self {
        case .pong(let seq, let t, let st):
            buffer.writeStaticString(#"{"type":"pong","seq":"#)
            Self.writeDecimal(seq, into: &buffer)
            buffer.writeStaticString(#","t":"#)
            Self.writeDecimal(t, into: &buffer)
            buffer.writeStaticString(#","st":"#)
            Self.writeDecimal(st, into: &buffer)
            buffer.writeStaticString("}")
        case .ping(let seq, let t):
            buffer.writeStaticString(#"{"type":"ping","seq":"#)
            Self.writeDecimal(seq, into: &buffer)
            buffer.writeStaticString(#","t":"#)
            Self.writeDecimal(t, into: &buffer)
            buffer.writeStaticString("}")
        case .welcome, .kick, .queued, .offered:
            buffer.writeBytes(json)
        }
    }

    /// Writes a signed integer in decimal.
    public static func writeDecimal(_ value: Int64, into buffer: inout ByteBuffer) {
        if value < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        writeDecimal(value.magnitude, into: &buffer)
    }

    /// Writes an unsigned integer in decimal, without making a `String`.
    public static func writeDecimal(_ value: UInt64, into buffer: inout ByteBuffer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var v = value
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v > 0
            buffer.writeBytes(UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }
}
