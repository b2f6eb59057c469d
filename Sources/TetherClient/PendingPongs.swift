/// The answers to the server's pings of one read, written when the read is over
/// (`channelReadComplete`), never in the middle of it; none once the read brought the connection's end (a
/// kick, a close frame): the server is gone, and a write that fails makes NIO close the channel before the
/// rest of the read (the kick) is passed on.
struct PendingPongs<Pong> {
    private var pending: [Pong] = []
    private var over = false

    /// A ping answered by `pong`.
    mutating func add(_ pong: Pong) {
        if !over { pending.append(pong) }
    }

    /// The connection is ending: nothing more is answered.
    mutating func ended() {
        over = true
        pending = []
    }

    /// The pongs to write now, in the order of their pings.
    mutating func take() -> [Pong] {
        defer { pending = [] }
        return pending
    }
}
