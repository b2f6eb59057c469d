import Foundation

/// A message from the server.
public enum ServerMessage: Sendable, Hashable, Codable {
    /// The hello was accepted.
    case welcome(Welcome)
    /// Answer to a client `ping`: `t` echoed, `st` the server's clock.
    case pong(seq: UInt64, t: Int64, st: Int64)
    /// A server ping (TCP only; WebSocket uses ping frames): the client answers `pong` with the same `seq`, `t`.
    case ping(seq: UInt64, t: Int64)
    /// Why the server is about to close the connection; `connect`: where to go instead (reason `moved`).
    case kick(reason: String, retryAfterMs: Int64?, connect: Connect? = nil)
    /// A queued client's place (after its `hello {queueToken}`, and again whenever it changes, at most once a
    /// second).
    case queued(ticketId: String, position: Int, etaMs: Int64)
    /// A concurrency is offered to the queued client's user until `reservedUntil`: its backend creates the
    /// session.
    case offered(concurrencyId: String, reservedUntil: Int64)

    /// Where a client connects to one node: CreateSession's `connect`, a `moved` kick's, `welcome`'s
    /// `alternates`.
    public typealias Connect = TetherAPI.CreatedSession.Connect

    /// The accepted hello's answer.
    public struct Welcome: Sendable, Hashable, Codable {
        /// Heartbeat timing the client must keep.
        public struct Heartbeat: Sendable, Hashable, Codable {
            /// How often to send `ping`.
            public var intervalMs: Int64
            /// Silence after which the server considers the connection lost.
            public var timeoutMs: Int64
            /// Creates heartbeat timing.
            public init(intervalMs: Int64, timeoutMs: Int64) {
                self.intervalMs = intervalMs
                self.timeoutMs = timeoutMs
            }
        }
        /// The session.
        public var sessionId: String
        /// The epoch of this connection.
        public var epoch: UInt64
        /// The concurrency held.
        public var concurrencyId: String
        /// Heartbeat timing.
        public var heartbeat: Heartbeat
        /// The server's clock (Unix ms).
        public var serverTime: Int64
        /// Single use; reconnect with it inside the grace window.
        public var resumeToken: String
        /// The grace window after a loss.
        public var reconnectGraceMs: Int64?
        /// The `connect` blocks of the cluster's other live nodes, to try in order when this node cannot be
        /// reached (empty on a lone node).
        public var alternates: [Connect]?

        /// Creates a welcome.
        public init(
            sessionId: String, epoch: UInt64, concurrencyId: String, heartbeat: Heartbeat, serverTime: Int64,
            resumeToken: String, reconnectGraceMs: Int64? = nil, alternates: [Connect]? = nil
        ) {
            self.sessionId = sessionId
            self.epoch = epoch
            self.concurrencyId = concurrencyId
            self.heartbeat = heartbeat
            self.serverTime = serverTime
            self.resumeToken = resumeToken
            self.reconnectGraceMs = reconnectGraceMs
            self.alternates = alternates
        }
    }

    private enum Keys: String, CodingKey {
        case type, seq, t, st, reason, retryAfterMs, connect, ticketId, position, etaMs, concurrencyId, reservedUntil
    }

    /// Decodes a server message (used by the SDK).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        switch try c.decode(String.self, forKey: .type) {
        case "welcome": self = .welcome(try Welcome(from: decoder))
        case "pong":
            self = .pong(
                seq: try c.decode(UInt64.self, forKey: .seq), t: try c.decode(Int64.self, forKey: .t),
                st: try c.decode(Int64.self, forKey: .st))
        case "ping": self = .ping(seq: try c.decode(UInt64.self, forKey: .seq), t: try c.decode(Int64.self, forKey: .t))
        case "kick":
            self = .kick(
                reason: try c.decode(String.self, forKey: .reason),
                retryAfterMs: try c.decodeIfPresent(Int64.self, forKey: .retryAfterMs),
                connect: try c.decodeIfPresent(Connect.self, forKey: .connect))
        case "queued":
            self = .queued(
                ticketId: try c.decode(String.self, forKey: .ticketId),
                position: try c.decode(Int.self, forKey: .position),
                etaMs: try c.decode(Int64.self, forKey: .etaMs))
        case "offered":
            self = .offered(
                concurrencyId: try c.decode(String.self, forKey: .concurrencyId),
                reservedUntil: try c.decode(Int64.self, forKey: .reservedUntil))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown type \(other)")
        }
    }

    /// Encodes the message with its `type`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .welcome(let w):
            try c.encode("welcome", forKey: .type)
            try w.encode(to: encoder)
        case .pong(let seq, let t, let st):
            try c.encode("pong", forKey: .type)
            try c.encode(seq, forKey: .seq)
            try c.encode(t, forKey: .t)
            try c.encode(st, forKey: .st)
        case .ping(let seq, let t):
            try c.encode("ping", forKey: .type)
            try c.encode(seq, forKey: .seq)
            try c.encode(t, forKey: .t)
        case .kick(let reason, let retryAfterMs, let connect):
            try c.encode("kick", forKey: .type)
            try c.encode(reason, forKey: .reason)
            try c.encodeIfPresent(retryAfterMs, forKey: .retryAfterMs)
            try c.encodeIfPresent(connect, forKey: .connect)
        case .queued(let ticketId, let position, let etaMs):
            try c.encode("queued", forKey: .type)
            try c.encode(ticketId, forKey: .ticketId)
            try c.encode(position, forKey: .position)
            try c.encode(etaMs, forKey: .etaMs)
        case .offered(let concurrencyId, let reservedUntil):
            try c.encode("offered", forKey: .type)
            try c.encode(concurrencyId, forKey: .concurrencyId)
            try c.encode(reservedUntil, forKey: .reservedUntil)
        }
    }

    /// The JSON text of the message (``writeJSON(to:)``).
    public var json: Data {
        var w = JSONWriter(capacity: 320)
        writeJSON(to: &w)
        return Data(w.bytes)
    }

    /// The TCP frame type of the message.
    public var frameType: FrameType {
        switch self {
        case .welcome: .welcome
        case .pong: .pong
        case .ping: .ping
        case .kick: .kick
        case .queued: .queued
        case .offered: .offered
        }
    }
}
