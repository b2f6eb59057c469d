extension TetherAPI {
    /// The body of ApplyConcurrent.
    public struct ApplyRequest: Codable, Sendable, Hashable {
        /// The user.
        public var userId: String
        /// The user's address, kept for the record.
        public var userIp: String?
        /// Queue the user when the pool is full and the project's queue is on (202 instead of 429).
        public var queue: Bool?
        /// A queued user's priority, 0–9 (higher first; 0 when absent).
        public var priority: Int?

        /// Creates the body.
        public init(userId: String, userIp: String? = nil, queue: Bool? = nil, priority: Int? = nil) {
            self.userId = userId
            self.userIp = userIp
            self.queue = queue
            self.priority = priority
        }

        private enum Keys: String, CodingKey { case userId, userIp, queue, priority }

        /// Decodes the body; `priority` may be written `3.0` (a JSON Schema integer), not `3.5`.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            userId = try c.decode(String.self, forKey: .userId)
            userIp = try c.decodeIfPresent(String.self, forKey: .userIp)
            queue = try c.decodeIfPresent(Bool.self, forKey: .queue)
            if let whole = try? c.decodeIfPresent(Int.self, forKey: .priority) {
                priority = whole
            } else if let number = try c.decodeIfPresent(Double.self, forKey: .priority) {
                guard number == number.rounded(), let value = Int(exactly: number) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .priority, in: c, debugDescription: "must be an integer, not \(number)")
                }
                priority = value
            } else {
                priority = nil
            }
        }
    }

    /// ApplyConcurrent's answer.
    public struct Applied: Codable, Sendable, Hashable {
        /// The concurrency reserved.
        public var concurrencyId: String
        /// The user's previous concurrency was still held.
        public var reused: Bool
        /// When the reservation lapses (Unix ms).
        public var reservedUntil: Int64

        /// Creates the answer.
        public init(concurrencyId: String, reused: Bool, reservedUntil: Int64) {
            self.concurrencyId = concurrencyId
            self.reused = reused
            self.reservedUntil = reservedUntil
        }
    }

    /// The body of CreateSession. `parameters` is any JSON value, kept as given.
    public struct CreateSessionRequest: Codable, Sendable, Hashable {
        /// The user (who applied).
        public var userId: String
        /// The user's address.
        public var userIp: String?
        /// The caller's own session reference.
        public var clientSession: String?
        /// The caller's run mode.
        public var runMode: String?
        /// Any JSON value.
        public var parameters: JSONValue?

        /// Creates the body.
        public init(
            userId: String, userIp: String? = nil, clientSession: String? = nil, runMode: String? = nil,
            parameters: JSONValue? = nil
        ) {
            self.userId = userId
            self.userIp = userIp
            self.clientSession = clientSession
            self.runMode = runMode
            self.parameters = parameters
        }
    }

    /// CreateSession's answer: what the backend hands to its client.
    public struct CreatedSession: Codable, Sendable, Hashable {
        /// Where the client connects.
        public struct Connect: Codable, Sendable, Hashable {
            /// `ws://host:port/v1/connect`.
            public var websocket: String
            /// `tcp://host:port`, when the TCP port is on.
            public var tcp: String?
            /// `http://host:port/v1/heartbeat`.
            public var http: String

            /// Creates the addresses.
            public init(websocket: String, tcp: String?, http: String) {
                self.websocket = websocket
                self.tcp = tcp
                self.http = http
            }
        }
        /// The session.
        public var sessionId: String
        /// The user.
        public var userId: String
        /// The concurrency held.
        public var concurrencyId: String
        /// The epoch the token is for.
        public var epoch: UInt64
        /// The session's state.
        public var state: String
        /// The client's token (bound to session and epoch).
        public var clientToken: String
        /// Where to connect.
        public var connect: Connect
        /// Heartbeat timing.
        public var heartbeat: Heartbeat
        /// The grace window after a loss (ms).
        public var reconnectGraceMs: Int64

        /// Creates the answer.
        public init(
            sessionId: String, userId: String, concurrencyId: String, epoch: UInt64, state: String,
            clientToken: String, connect: Connect, heartbeat: Heartbeat, reconnectGraceMs: Int64
        ) {
            self.sessionId = sessionId
            self.userId = userId
            self.concurrencyId = concurrencyId
            self.epoch = epoch
            self.state = state
            self.clientToken = clientToken
            self.connect = connect
            self.heartbeat = heartbeat
            self.reconnectGraceMs = reconnectGraceMs
        }
    }

    /// One transition of a session.
    public struct HistoryEntry: Codable, Sendable, Hashable {
        /// When (Unix ms).
        public var at: Int64
        /// The event type that recorded it.
        public var type: String
        /// The state after it.
        public var state: String
        /// The epoch after it.
        public var epoch: UInt64
        /// The disconnect cause, if any.
        public var cause: String?
        /// The end reason, if any.
        public var reason: String?

        /// Creates an entry.
        public init(at: Int64, type: String, state: String, epoch: UInt64, cause: String?, reason: String?) {
            self.at = at
            self.type = type
            self.state = state
            self.epoch = epoch
            self.cause = cause
            self.reason = reason
        }
    }

    /// Connection quality the server measured from a session's heartbeats.
    public struct SessionStats: Codable, Sendable, Hashable {
        /// RTT percentiles (ms).
        public struct Percentiles: Codable, Sendable, Hashable {
            /// Median.
            public var p50: Double?
            /// 99th percentile.
            public var p99: Double?

            /// Creates percentiles.
            public init(p50: Double?, p99: Double?) {
                self.p50 = p50
                self.p99 = p99
            }
        }
        /// Round trips (ms).
        public var rttMs: Percentiles
        /// Jitter (ms).
        public var jitterMs: Double?
        /// Loss rate (0...1).
        public var lossRate: Double?
        /// Heartbeats received.
        public var heartbeats: UInt64

        /// Nothing measured yet.
        public static let empty = SessionStats(
            rttMs: .init(p50: nil, p99: nil), jitterMs: nil, lossRate: nil, heartbeats: 0)

        /// Creates stats.
        public init(rttMs: Percentiles, jitterMs: Double?, lossRate: Double?, heartbeats: UInt64) {
            self.rttMs = rttMs
            self.jitterMs = jitterMs
            self.lossRate = lossRate
            self.heartbeats = heartbeats
        }
    }

    /// A session as the API shows it (never its resume token).
    public struct Session: Codable, Sendable, Hashable {
        /// The id.
        public var sessionId: String
        /// The project.
        public var projectId: String
        /// The user.
        public var userId: String
        /// The concurrency held.
        public var concurrencyId: String
        /// The current epoch.
        public var epoch: UInt64
        /// `created`, `connected`, `suspended`, `grace` or `ended`.
        public var state: String
        /// Why it ended.
        public var endReason: String?
        /// The last disconnect cause.
        public var lastCause: String?
        /// The current deadline (Unix ms).
        public var deadlineAt: Int64?
        /// Creation time (Unix ms).
        public var createdAt: Int64
        /// Last change (Unix ms).
        public var updatedAt: Int64
        /// End time (Unix ms).
        public var endedAt: Int64?
        /// The last heartbeat (Unix ms).
        public var lastHeartbeatAt: Int64?
        /// A connected session not heard from for more than a heartbeat interval: probed with server pings,
        /// not yet convicted (absent unless connected).
        public var suspect: Bool?
        /// The current connection's transport.
        public var transport: String?
        /// As given at CreateSession.
        public var userIp: String?
        /// As given at CreateSession.
        public var clientSession: String?
        /// As given at CreateSession.
        public var runMode: String?
        /// As given at CreateSession.
        public var parameters: JSONValue?
        /// The last transitions.
        public var history: [HistoryEntry]
        /// Connection quality.
        public var stats: SessionStats?

        /// Creates a session body (the optional fields `nil`, `history` empty, `stats` absent).
        public init(
            sessionId: String, projectId: String, userId: String, concurrencyId: String, epoch: UInt64,
            state: String, createdAt: Int64, updatedAt: Int64
        ) {
            self.sessionId = sessionId
            self.projectId = projectId
            self.userId = userId
            self.concurrencyId = concurrencyId
            self.epoch = epoch
            self.state = state
            self.createdAt = createdAt
            self.updatedAt = updatedAt
            self.history = []
        }
    }

    /// `GET /v1/projects/{id}/sessions`.
    public struct SessionList: Codable, Sendable, Hashable {
        /// The sessions.
        public var sessions: [Session]

        /// Creates the list.
        public init(sessions: [Session]) { self.sessions = sessions }
    }

    /// DescribeConcurrentCount's answer.
    public struct ConcurrencyCount: Codable, Sendable, Hashable {
        /// Slots in the pool.
        public var total: Int
        /// Nobody holds them.
        public var idle: Int
        /// Held by a reservation only.
        public var reserved: Int
        /// `total - idle`.
        public var running: Int
        /// Sessions created, not yet connected.
        public var created: Int?
        /// Sessions connected.
        public var connected: Int
        /// Sessions suspended.
        public var suspended: Int
        /// Sessions in grace.
        public var grace: Int

        /// Creates the counts.
        public init(
            total: Int, idle: Int, reserved: Int, running: Int, created: Int?, connected: Int, suspended: Int,
            grace: Int
        ) {
            self.total = total
            self.idle = idle
            self.reserved = reserved
            self.running = running
            self.created = created
            self.connected = connected
            self.suspended = suspended
            self.grace = grace
        }
    }
}
