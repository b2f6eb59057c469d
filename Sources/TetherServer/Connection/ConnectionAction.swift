import TetherCore
import TetherProtocol

/// What a ``ConnectionMachine`` asks its executor to do, in order. Rules are decided by the machine; the
/// executor only carries them out.
enum ConnectionAction: Sendable, Hashable {
    /// A frame passed the rate limit: count it (session stats, metrics).
    case countInbound
    /// The client's `ping` carried `seq`, after `previous`: the executor's loss counter reads the gap.
    case clientSeq(UInt64, previous: UInt64?)
    /// A server ping was answered after `rttMs`.
    case rtt(Double)
    /// Ask the server's hello pacer (``HelloPacer``) whether a hello may go on now, and answer with
    /// ``ConnectionMachine/paced(_:credential:at:)``.
    case pace(ClientMessage.Credential)
    /// Check a `hello`'s credential: verify a client token's signature, or hash a resume token, and answer
    /// with ``ConnectionMachine/authenticated(_:at:)``.
    case authenticate(ClientMessage.Credential)
    /// Let kicks for this connection reach it (before its hello is submitted).
    case register
    /// Run a broker command. It is a gate: when the broker refuses it, the executor drops the actions after it
    /// and carries out ``ConnectionMachine/refused(_:at:)`` instead; a hello's success is answered with
    /// ``ConnectionMachine/helloAccepted(_:policy:at:)``. Boxed (rare, and a `Command` is large).
    indirect case submit(Command)
    /// The heartbeat of the attached `session`: ``Command/heartbeat(_:connection:)``, or
    /// ``Command/keepalive(_:connection:)`` when it must not end a suspension. A gate, like ``submit(_:)``;
    /// a case of its own so that a heartbeat's actions stay small and unboxed.
    case heartbeat(SessionID, connection: ConnectionID, endsSuspension: Bool)
    /// Send one message. Boxed (rare, and a `ServerMessage` is large).
    indirect case send(ServerMessage)
    /// Send a `pong` (the hot path's message, unboxed).
    case pong(seq: UInt64, t: Int64, st: Millis)
    /// Send a server ping carrying `seq` (a WebSocket ping frame, or a TCP `ping` message).
    case ping(seq: UInt64)
    /// Close the connection with a code and a reason (a WebSocket close frame; TCP just closes).
    case close(CloseCode, reason: String)
    /// Tell the broker the attached session lost its connection.
    case lost(SessionID, DisconnectCause)
    /// Tell the broker a queued client's connection closed, last heard from at `lastSeenAt` (boxed: rare, and
    /// the heartbeat's actions stay small).
    indirect case queueLost(ProjectID, UserID, lastSeenAt: Millis)
    /// Start recording the connection's heartbeats on its link: heard from `at`, silent past `until` means
    /// lost (the broker reads the record when its deadline for the connection falls due).
    case watch(at: Millis, until: Millis)
    /// The connection waits on the server (its hello is accepted, its welcome not yet durable): until `watch`,
    /// it counts as heard from whenever the broker asks (a commit slower than the heartbeat timeout must not
    /// expire a client that could not know it was welcomed).
    case awaitWelcome
    /// The connection was heard from `at`: its recorded deadline moves to `until` (no lock, no broker).
    case seen(at: Millis, until: Millis)
    /// Stop recording (a declared suspension is the broker's to time; a closed connection is gone).
    case unwatch
    /// Start or stop this connection's server pings (its loop's ping sweeper).
    case startPinging
    case stopPinging
    /// Call ``ConnectionMachine/drainExpired(at:)`` after this many milliseconds.
    case scheduleDrain(Millis)
    /// The hello deadline no longer matters.
    case cancelHelloTimer
    /// Kicks no longer reach this connection.
    case unregister
    /// Write a debug line: the connection was refused or failed, and why.
    case logRefusal(session: SessionID?, reason: String, closeCode: CloseCode)
    /// HTTP: the virtual connection is now `new` (kicks reach it), no longer `old`.
    case attach(old: ConnectionID, new: ConnectionID)
    /// HTTP: answer the request. Boxed: a reply may hold a whole `ServerMessage` (104 bytes), which made every
    /// action, and the four a heartbeat's ``ConnectionActions`` hold inline, that large.
    indirect case answer(HeartbeatReply)
    /// HTTP: the session is over for this client; forget its virtual connection.
    case forget
}

/// What an HTTP heartbeat is answered (the executor renders it: ``HeartbeatAnswer``).
enum HeartbeatReply: Sendable, Hashable {
    /// 200 with this message (`pong`).
    case message(ServerMessage)
    /// The client's token is done with, and why (401 `badToken`, 409 `replaced`, 410 `destroyed`, `left`,
    /// `expired`).
    case kick(KickReason)
    /// 400 with this code and message.
    case invalid(code: String, message: String)
    /// 503: the heartbeat would attach the session, but hellos are over the server's rate; try again after
    /// `retryAfterMs` (kick `busy`; the session is untouched).
    case busy(retryAfterMs: Millis)
}

/// A few actions in order, kept inline: a heartbeat yields four at most, and allocates nothing. An executor
/// walks them by index (``count``, subscript), which copies one small action at a time.
struct ConnectionActions: Sequence, Sendable, Hashable {
    private var a0: ConnectionAction?
    private var a1: ConnectionAction?
    private var a2: ConnectionAction?
    private var a3: ConnectionAction?
    private var more: [ConnectionAction] = []

    init() {}

    init(_ actions: ConnectionAction...) {
        for action in actions { append(action) }
    }

    mutating func append(_ action: ConnectionAction) {
        if a0 == nil {
            a0 = action
        } else if a1 == nil {
            a1 = action
        } else if a2 == nil {
            a2 = action
        } else if a3 == nil {
            a3 = action
        } else {
            more.append(action)
        }
    }

    mutating func append(contentsOf other: ConnectionActions) {
        for action in other { append(action) }
    }

    var isEmpty: Bool { a0 == nil }

    /// How many actions there are.
    var count: Int {
        if a0 == nil { return 0 }
        if a1 == nil { return 1 }
        if a2 == nil { return 2 }
        if a3 == nil { return 3 }
        return 4 + more.count
    }

    /// The action at `index` (< ``count``).
    subscript(index: Int) -> ConnectionAction {
        switch index {
        case 0: a0!
        case 1: a1!
        case 2: a2!
        case 3: a3!
        default: more[index - 4]
        }
    }

    func makeIterator() -> Iterator { Iterator(actions: self) }

    /// Walks the actions in order.
    struct Iterator: IteratorProtocol {
        let actions: ConnectionActions
        var index = 0

        mutating func next() -> ConnectionAction? {
            defer { index += 1 }
            switch index {
            case 0: return actions.a0
            case 1: return actions.a1
            case 2: return actions.a2
            case 3: return actions.a3
            default:
                let i = index - 4
                return i < actions.more.count ? actions.more[i] : nil
            }
        }
    }
}
