/// The accepted ranges of every validated value. Documented in the README and the OpenAPI document.
public enum Limits {
    /// Project capacity.
    public static let capacity: ClosedRange<Int> = 0...100_000
    /// `heartbeat.intervalMs`.
    public static let heartbeatIntervalMs: ClosedRange<Millis> = 100...3_600_000
    /// `heartbeat.timeoutMs` (also at least twice the interval).
    public static let heartbeatTimeoutMs: ClosedRange<Millis> = 200...86_400_000
    /// `reconnectGraceMs`.
    public static let reconnectGraceMs: ClosedRange<Millis> = 0...86_400_000
    /// `reservationTtlMs`.
    public static let reservationTtlMs: ClosedRange<Millis> = 100...86_400_000
    /// `connectTimeoutMs`.
    public static let connectTimeoutMs: ClosedRange<Millis> = 100...86_400_000
    /// `maxSuspendMs`.
    public static let maxSuspendMs: ClosedRange<Millis> = 0...86_400_000
    /// A suspension's `expectedMs`.
    public static let expectedMs: ClosedRange<Millis> = 1...86_400_000
    /// Length of a project id.
    public static let projectIDLength: ClosedRange<Int> = 1...64
    /// Length of a user id.
    public static let userIDLength: ClosedRange<Int> = 1...128
    /// Length of a project name.
    public static let nameLength: ClosedRange<Int> = 0...256
    /// Length of a webhook URL.
    public static let webhookURLLength: ClosedRange<Int> = 8...2_048
    /// Length of a webhook secret.
    public static let webhookSecretLength: ClosedRange<Int> = 1...256
    /// How long a replaced webhook secret keeps signing beside the new one (24 h).
    public static let webhookSecretOverlapMs: Millis = 86_400_000
    /// Entries of `allowedOrigins`.
    public static let allowedOrigins: ClosedRange<Int> = 0...100
    /// Length of one allowed origin.
    public static let originLength: ClosedRange<Int> = 8...256
    /// A queued apply's `priority` (higher first).
    public static let queuePriority: ClosedRange<Int> = 0...9
    /// `queue.offerTtlMs`.
    public static let queueOfferTtlMs: ClosedRange<Millis> = 100...86_400_000
    /// `queue.maxLength`.
    public static let queueMaxLength: ClosedRange<Int> = 1...1_000_000
    /// `queue.clientTimeoutMs`.
    public static let queueClientTimeoutMs: ClosedRange<Millis> = 200...86_400_000
    /// Length of the free-form session fields (`userIp`, `clientSession`, `runMode`, `parameters`).
    public static let metadataLength: ClosedRange<Int> = 0...16_384
}
