/// The validation rules of every value the backend or a client sends. Each failure names the field.
public enum Validation {
    /// Checks a project id: 1–64 of `A–Z a–z 0–9 _ -`.
    public static func projectID(_ id: String, field: String = "id") throws(BrokerError) {
        guard Limits.projectIDLength.contains(id.utf8.count),
            id.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else {
            throw .invalidParameter(field: field, message: "must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'")
        }
    }

    /// Checks a user id: 1–128 characters (Unicode code points, as JSON Schema's `maxLength` counts),
    /// none a control character.
    public static func userID(_ id: String, field: String = "userId") throws(BrokerError) {
        guard Limits.userIDLength.contains(id.unicodeScalars.count), id.unicodeScalars.allSatisfy({ !isControl($0) })
        else {
            throw .invalidParameter(field: field, message: "must be 1 to 128 characters without control characters")
        }
    }

    /// Checks a whole policy; the first bad field is reported.
    public static func policy(_ p: Policy) throws(BrokerError) {
        try range(p.capacity, Limits.capacity, "capacity")
        try range(p.heartbeat.intervalMs, Limits.heartbeatIntervalMs, "heartbeat.intervalMs")
        try range(p.heartbeat.timeoutMs, Limits.heartbeatTimeoutMs, "heartbeat.timeoutMs")
        guard p.heartbeat.timeoutMs >= 2 * p.heartbeat.intervalMs else {
            throw .invalidParameter(
                field: "heartbeat.timeoutMs",
                message: "must be at least 2 x heartbeat.intervalMs (\(2 * p.heartbeat.intervalMs))")
        }
        try range(p.reconnectGraceMs, Limits.reconnectGraceMs, "reconnectGraceMs")
        try range(p.reservationTtlMs, Limits.reservationTtlMs, "reservationTtlMs")
        try range(p.connectTimeoutMs, Limits.connectTimeoutMs, "connectTimeoutMs")
        try range(p.maxSuspendMs, Limits.maxSuspendMs, "maxSuspendMs")
        try range(p.queue.offerTtlMs, Limits.queueOfferTtlMs, "queue.offerTtlMs")
        try range(p.queue.maxLength, Limits.queueMaxLength, "queue.maxLength")
        try range(p.queue.clientTimeoutMs, Limits.queueClientTimeoutMs, "queue.clientTimeoutMs")
        if let origins = p.allowedOrigins {
            guard Limits.allowedOrigins.contains(origins.count) else {
                throw .invalidParameter(field: "allowedOrigins", message: "must hold at most 100 origins")
            }
            for (i, origin) in origins.enumerated()
            where !Limits.originLength.contains(origin.utf8.count) || !OriginRule.isValid(origin) {
                throw .invalidParameter(
                    field: "allowedOrigins[\(i)]",
                    message:
                        "must be an origin as browsers send it: http(s)://host[:port], nothing after (8 to 256 bytes)")
            }
        }
        if let hook = p.webhook {
            let url = hook.url
            guard Limits.webhookURLLength.contains(url.utf8.count), WebhookURL.isValid(url) else {
                throw .invalidParameter(
                    field: "webhook.url",
                    message:
                        "must be an absolute http:// or https:// URL with a DNS name or IPv4 host (8 to 2048 bytes)")
            }
            guard Limits.webhookSecretLength.contains(hook.secret.unicodeScalars.count) else {
                throw .invalidParameter(field: "webhook.secret", message: "must be 1 to 256 characters")
            }
        }
    }

    /// Checks a project name.
    public static func name(_ name: String) throws(BrokerError) {
        guard Limits.nameLength.contains(name.unicodeScalars.count), name.unicodeScalars.allSatisfy({ !isControl($0) })
        else {
            throw .invalidParameter(field: "name", message: "must be at most 256 characters without control characters")
        }
    }

    /// Checks a free-form field's length.
    public static func metadata(_ value: String?, field: String) throws(BrokerError) {
        guard let value else { return }
        guard Limits.metadataLength.contains(value.unicodeScalars.count) else {
            throw .invalidParameter(
                field: field, message: "must be at most \(Limits.metadataLength.upperBound) characters")
        }
    }

    /// Checks that `value` lies in `limits`.
    public static func range<T: Comparable>(_ value: T, _ limits: ClosedRange<T>, _ field: String) throws(BrokerError) {
        guard limits.contains(value) else {
            throw .invalidParameter(
                field: field, message: "must be between \(limits.lowerBound) and \(limits.upperBound), got \(value)")
        }
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    private static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (s.value >= 0x7F && s.value < 0xA0)
    }
}
