extension TetherAPI {
    /// `GET /v1/projects/{projectId}/history`: the project's pool over the last hour, one sample per period,
    /// oldest first, the last one taken at the time of the call.
    public struct PoolHistory: Codable, Sendable, Hashable {
        /// The project.
        public var projectId: String
        /// The time between two stored samples (ms).
        public var periodMs: Int64
        /// How far back samples are kept (ms).
        public var windowMs: Int64
        /// The samples, oldest first; the last is the pool now.
        public var samples: [PoolSample]

        /// Creates a history.
        public init(projectId: String, periodMs: Int64, windowMs: Int64, samples: [PoolSample]) {
            self.projectId = projectId
            self.periodMs = periodMs
            self.windowMs = windowMs
            self.samples = samples
        }
    }

    /// A project's pool at one moment.
    public struct PoolSample: Codable, Sendable, Hashable {
        /// When (Unix ms).
        public var at: Int64
        /// Slots in the pool.
        public var total: Int
        /// Slots nobody holds.
        public var idle: Int
        /// Slots held by a reservation only.
        public var reserved: Int
        /// Sessions created, not yet connected.
        public var created: Int
        /// Sessions connected.
        public var connected: Int
        /// Sessions suspended.
        public var suspended: Int
        /// Sessions in grace.
        public var grace: Int
        /// Users in the project's waiting queue.
        public var queued: Int

        /// Creates a sample.
        public init(
            at: Int64, total: Int, idle: Int, reserved: Int, created: Int, connected: Int, suspended: Int, grace: Int,
            queued: Int
        ) {
            self.at = at
            self.total = total
            self.idle = idle
            self.reserved = reserved
            self.created = created
            self.connected = connected
            self.suspended = suspended
            self.grace = grace
            self.queued = queued
        }
    }
}
