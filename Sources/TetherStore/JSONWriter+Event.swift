import TetherCore

// The JSON of an event (the shape of `GET /v1/events`, SSE frames and webhook bodies) and of a session's
// history entry (the API's and the `history` column's), written by hand (see `JSONWriter`). The members are
// the synthesized `Codable` ones (property names; `nil` left out; enums as raw values), so `JSONDecoder` reads
// them back equal; RecordColumnsTests checks both ways.

extension HistoryEntry {
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

extension Event {
    /// Writes the event as a JSON object (the shape of `GET /v1/events` too).
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
        w.endObject()
        w.endObject()
    }
}
