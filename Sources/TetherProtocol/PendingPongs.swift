/// The answers to the server's pings of one read, written when the read is over
/// (`channelReadComplete`), never in the middle of it; none once the read brought the connection's end (a
/// kick, a close frame): the server is gone, and a write that fails makes NIO close the channel before the
/// rest of the read (the kick) is passed on. Used by the Swift SDK's links and by the bench's load client.
public struct PendingPongs<Pong> {
    private var pending: [Pong] = []
    private var over = false

    /// Nothing pending.
    public init() {}

    /// A ping answered by `pong`.
    public mutating func add(_ pong: Pong) {
        if !over { pending.append(pong) }
    }

    /// The connection is ending: nothing more is answered.
    public mutating func ended() {
        over = true
        pending = []
    }

    /// The pongs to write now, in the order of their pings.
    public mutating func take() -> [Pong] {
        defer { pending = [] }
        return pending
    }
}
