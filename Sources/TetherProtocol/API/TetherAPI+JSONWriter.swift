// The busiest bodies written with `JSONWriter` instead of `JSONEncoder`: the same members as the synthesized
// `Codable` conformances (absent when `nil`), a tenth of the CPU. A session with `parameters` or measured
// stats (numbers with fractions) is left to `JSONEncoder`, which formats doubles. TetherProtocolTests compare
// both encodings.

extension TetherAPI.Applied {
    /// Writes the answer as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("concurrencyId", concurrencyId)
        w.field("reused", reused)
        w.field("reservedUntil", reservedUntil)
        w.endObject()
    }
}

extension TetherAPI.CreatedSession {
    /// Writes the answer as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("sessionId", sessionId)
        w.field("userId", userId)
        w.field("concurrencyId", concurrencyId)
        w.field("epoch", epoch)
        w.field("state", state)
        w.field("clientToken", clientToken)
        w.key("connect")
        connect.writeJSON(into: &w)
        w.key("heartbeat")
        heartbeat.writeJSON(into: &w)
        w.field("reconnectGraceMs", reconnectGraceMs)
        w.endObject()
    }
}

extension TetherAPI.CreatedSession.Connect {
    /// Writes the addresses as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("websocket", websocket)
        w.field("tcp", tcp)
        w.field("http", http)
        w.endObject()
    }
}

extension TetherAPI.Heartbeat {
    /// Writes the timing as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("intervalMs", intervalMs)
        w.field("timeoutMs", timeoutMs)
        w.endObject()
    }
}

extension TetherAPI.Session {
    /// Whether ``writeJSON(into:)`` can write it: no `parameters` and no measured figure (both need
    /// `JSONEncoder`).
    public var isPlain: Bool {
        guard parameters == nil else { return false }
        guard let stats else { return true }
        return stats.rttMs.p50 == nil && stats.rttMs.p99 == nil && stats.jitterMs == nil && stats.lossRate == nil
    }

    /// Writes the session as a JSON object; `false` (and nothing written) unless ``isPlain``.
    public func writeJSON(into w: inout JSONWriter) -> Bool {
        guard isPlain else { return false }
        w.beginObject()
        w.field("sessionId", sessionId)
        w.field("projectId", projectId)
        w.field("userId", userId)
        w.field("concurrencyId", concurrencyId)
        w.field("epoch", epoch)
        w.field("state", state)
        w.field("endReason", endReason)
        w.field("lastCause", lastCause)
        w.field("deadlineAt", deadlineAt)
        w.field("createdAt", createdAt)
        w.field("updatedAt", updatedAt)
        w.field("endedAt", endedAt)
        w.field("lastHeartbeatAt", lastHeartbeatAt)
        if let suspect {
            w.key("suspect")
            w.value(suspect)
        }
        w.field("transport", transport)
        w.field("userIp", userIp)
        w.field("clientSession", clientSession)
        w.field("runMode", runMode)
        w.key("history")
        w.beginArray()
        for entry in history { entry.writeJSON(into: &w) }
        w.endArray()
        if let stats {
            w.key("stats")
            w.beginObject()
            w.key("rttMs")
            w.beginObject()
            w.endObject()
            w.field("heartbeats", stats.heartbeats)
            w.endObject()
        }
        w.endObject()
        return true
    }
}

extension TetherAPI.HistoryEntry {
    /// Writes the entry as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("at", at)
        w.field("type", type)
        w.field("state", state)
        w.field("epoch", epoch)
        w.field("cause", cause)
        w.field("reason", reason)
        w.endObject()
    }
}

extension TetherAPI.Event {
    /// Writes the event as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("cursor", cursor)
        w.field("at", at)
        w.field("type", type)
        w.field("projectId", projectId)
        w.field("sessionId", sessionId)
        w.field("userId", userId)
        w.field("concurrencyId", concurrencyId)
        w.field("epoch", epoch)
        w.field("sessionSeq", sessionSeq)
        w.key("data")
        w.beginObject()
        w.field("cause", data.cause)
        w.field("reason", data.reason)
        w.field("deadlineAt", data.deadlineAt)
        w.field("reused", data.reused)
        w.field("transport", data.transport)
        w.field("suspendReason", data.suspendReason)
        w.field("retired", data.retired)
        w.field("from", data.from)
        w.field("ticketId", data.ticketId)
        w.field("position", data.position.map { Int64($0) })
        w.field("concurrencyId", data.concurrencyId)
        w.field("reservedUntil", data.reservedUntil)
        w.endObject()
        w.endObject()
    }
}

extension TetherAPI.EventPage {
    /// Writes the page as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.key("events")
        w.beginArray()
        for event in events { event.writeJSON(into: &w) }
        w.endArray()
        w.field("nextCursor", nextCursor)
        w.endObject()
    }
}
