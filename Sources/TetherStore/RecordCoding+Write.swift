import TetherCore

// The JSON text of the records written on every command, by hand (see `JSONWriter`). The members are the
// synthesized `Codable` ones (property names; `nil` left out; enums as raw values), so `JSONDecoder` reads
// them back as before; RecordCodingTests checks that both ways.

extension Session {
    /// Writes the record as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("id", id)
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
        w.field("connection", connection)
        w.field("transport", transport)
        w.field("everConnected", everConnected)
        w.field("resumeTokenHash", resumeTokenHash)
        w.field("previousResumeTokenHash", previousResumeTokenHash)
        w.field("previousResumeTokenUntil", previousResumeTokenUntil)
        w.field("seq", seq)
        w.key("metadata")
        metadata.writeJSON(into: &w)
        w.key("history")
        w.beginArray()
        for entry in history { entry.writeJSON(into: &w) }
        w.endArray()
        w.endObject()
    }
}

extension SessionMetadata {
    /// Writes the metadata as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("userIp", userIp)
        w.field("clientSession", clientSession)
        w.field("runMode", runMode)
        w.field("parameters", parameters)
        w.endObject()
    }
}

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

extension Reservation {
    /// Writes the reservation as a JSON object.
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.field("projectId", projectId)
        w.field("userId", userId)
        w.field("concurrencyId", concurrencyId)
        w.field("reservedUntil", reservedUntil)
        w.field("userIp", userIp)
        w.endObject()
    }
}

extension RecordCoding {
    /// The JSON text of a session record.
    static func encode(_ session: Session) -> String {
        var w = JSONWriter(capacity: 512)
        session.writeJSON(into: &w)
        return w.text
    }

    /// The JSON text of an event record.
    static func encode(_ event: Event) -> String {
        var w = JSONWriter(capacity: 256)
        event.writeJSON(into: &w)
        return w.text
    }

    /// The JSON text of a reservation record.
    static func encode(_ reservation: Reservation) -> String {
        var w = JSONWriter(capacity: 160)
        reservation.writeJSON(into: &w)
        return w.text
    }
}
