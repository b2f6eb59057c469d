import NIOCore

/// The TCP frame types (API.md): `u32 big-endian length | u8 type | JSON payload`.
public enum FrameType: UInt8, Sendable, Hashable {
    case hello = 1
    case welcome, ping, pong, suspend, bye, kick, queued, offered
}

/// Limits of the client channel.
public enum FrameLimits {
    /// The largest payload of a WebSocket message or TCP frame (64 KiB).
    public static let maxPayload = 64 * 1024
}

/// One TCP frame.
public struct TCPFrame: Sendable, Hashable {
    /// The type byte.
    public var type: UInt8
    /// The JSON payload.
    public var payload: ByteBuffer

    /// Creates a frame.
    public init(type: UInt8, payload: ByteBuffer) {
        self.type = type
        self.payload = payload
    }
}

/// Decodes TCP frames. The length is checked before anything is buffered for the payload: a length of
/// 0 or over 64 KiB (type byte included) throws at once, so a 2^31 prefix allocates nothing.
public struct TCPFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// Frames out.
    public typealias InboundOut = TCPFrame

    /// Creates a decoder.
    public init() {}

    /// Decodes one frame when it is complete.
    public mutating func decode(buffer: inout ByteBuffer) throws -> TCPFrame? {
        try TCPFrame.read(from: &buffer)
    }

    /// At EOF a partial frame is dropped (the connection is closing anyway).
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> TCPFrame? {
        try decode(buffer: &buffer)
    }
}

extension TCPFrame {
    /// Reads one frame off `buffer` when all of it is there (`nil`, nothing consumed, while it is not); a
    /// length of 0 or over ``FrameLimits/maxPayload`` is an error as soon as the length is read.
    public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> TCPFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1, Int(length) <= FrameLimits.maxPayload else {
            throw ProtocolError.frameSize(Int(length))
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let type = buffer.readInteger(as: UInt8.self), let payload = buffer.readSlice(length: Int(length) - 1)
        else { return nil }
        return TCPFrame(type: type, payload: payload)
    }
}

/// Encodes TCP frames.
public struct TCPFrameEncoder: MessageToByteEncoder {
    /// Frames in.
    public typealias OutboundIn = TCPFrame

    /// Creates an encoder.
    public init() {}

    /// Writes `length | type | payload`.
    public func encode(data: TCPFrame, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.payload.readableBytes + 1))
        out.writeInteger(data.type)
        out.writeImmutableBuffer(data.payload)
    }
}
