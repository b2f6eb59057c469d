import Foundation
import NIOCore

extension ServerMessage {
    /// Writes the message's JSON into `buffer`. `pong` and `ping`, sent for every heartbeat, are written
    /// directly as `{"type":"pong","seq":N,"t":T,"st":S}` (no Foundation, no allocation beyond the buffer);
    /// the others with ``JSONWriter`` (``writeJSON(to:)``).
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
            var w = JSONWriter(capacity: 320)
            writeJSON(to: &w)
            buffer.writeBytes(w.bytes)
        }
    }

    /// Writes the message as one JSON object, `type` first and then the fields in the order of their
    /// declaration, the members the `Encodable` conformance writes, without `Codable`'s generic containers: a
    /// storm's every reconnect gets a `welcome` (`JSONEncoder` was ~2 % of the server's CPU).
    public func writeJSON(to w: inout JSONWriter) {
        w.beginObject()
        switch self {
        case .welcome(let welcome):
            w.field("type", "welcome")
            w.field("sessionId", welcome.sessionId)
            w.field("epoch", welcome.epoch)
            w.field("concurrencyId", welcome.concurrencyId)
            w.key("heartbeat")
            w.beginObject()
            w.field("intervalMs", welcome.heartbeat.intervalMs)
            w.field("timeoutMs", welcome.heartbeat.timeoutMs)
            w.endObject()
            w.field("serverTime", welcome.serverTime)
            w.field("resumeToken", welcome.resumeToken)
            w.field("reconnectGraceMs", welcome.reconnectGraceMs)
            if let alternates = welcome.alternates {
                w.key("alternates")
                w.beginArray()
                for connect in alternates { connect.writeJSON(into: &w) }
                w.endArray()
            }
        case .pong(let seq, let t, let st):
            w.field("type", "pong")
            w.field("seq", seq)
            w.field("t", t)
            w.field("st", st)
        case .ping(let seq, let t):
            w.field("type", "ping")
            w.field("seq", seq)
            w.field("t", t)
        case .kick(let reason, let retryAfterMs, let connect):
            w.field("type", "kick")
            w.field("reason", reason)
            w.field("retryAfterMs", retryAfterMs)
            if let connect {
                w.key("connect")
                connect.writeJSON(into: &w)
            }
        case .queued(let ticketId, let position, let etaMs):
            w.field("type", "queued")
            w.field("ticketId", ticketId)
            w.field("position", position)
            w.field("etaMs", etaMs)
        case .offered(let concurrencyId, let reservedUntil):
            w.field("type", "offered")
            w.field("concurrencyId", concurrencyId)
            w.field("reservedUntil", reservedUntil)
        }
        w.endObject()
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
