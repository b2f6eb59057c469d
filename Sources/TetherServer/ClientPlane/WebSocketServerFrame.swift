import NIOCore

/// A server's frame (RFC 6455 §5.2: final, unmasked), header and payload in one buffer: one write, one
/// `iovec` (NIO's encoder writes the header as a buffer of its own unless the payload has room before it).
enum WebSocketServerFrame {
    /// The opcodes a server sends.
    enum Opcode: UInt8 {
        case text = 0x1
        case close = 0x8
        case ping = 0x9
        case pong = 0xA
    }

    /// The longest header: two bytes and a 64-bit length.
    static let maxHeader = 10

    /// A frame whose payload `write` writes into the buffer it is given (the payload's length need not be
    /// known before).
    static func make(
        _ opcode: Opcode, allocator: ByteBufferAllocator, capacity: Int, _ write: (inout ByteBuffer) -> Void
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: maxHeader + capacity)
        buffer.moveWriterIndex(to: maxHeader)
        buffer.moveReaderIndex(to: maxHeader)
        write(&buffer)
        let length = buffer.readableBytes
        let start: Int
        switch length {
        case 0..<126:
            start = maxHeader - 2
            buffer.setInteger(UInt8(length), at: start + 1)
        case 126...0xFFFF:
            start = maxHeader - 4
            buffer.setInteger(UInt8(126), at: start + 1)
            buffer.setInteger(UInt16(length), at: start + 2)
        default:
            start = 0
            buffer.setInteger(UInt8(127), at: start + 1)
            buffer.setInteger(UInt64(length), at: start + 2)
        }
        buffer.setInteger(0x80 | opcode.rawValue, at: start)
        buffer.moveReaderIndex(to: start)
        return buffer
    }

    /// A frame carrying `payload`.
    static func make(_ opcode: Opcode, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = payload
        return make(opcode, allocator: allocator, capacity: payload.readableBytes) { $0.writeBuffer(&payload) }
    }
}
