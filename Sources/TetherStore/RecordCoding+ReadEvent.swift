import TetherCore

// Event records read back without a `Decoder`: a reader of the feed that is behind its memory (every SSE
// stream and webhook after a restart, a storm of reconnections) reads tens of thousands of them, and
// `StrictJSONDecoder` cost ten times as much (docs/PERFORMANCE.md, "Storms"). Anything the fast reader does
// not expect falls back to `StrictJSONDecoder`, which decides; RecordCodingTests compares both.

extension RecordCoding {
    /// An event record from its JSON text.
    static func decodeEvent(from json: String) throws -> Event {
        var json = json
        if let event = json.withUTF8({ bytes -> Event? in
            var reader = JSONReader(bytes)
            guard let event = Event.read(&reader), reader.atEnd() else { return nil }
            return event
        }) {
            return event
        }
        return try decode(Event.self, from: json)
    }
}

extension Event {
    /// Reads an event object; `nil` when anything is off (the caller falls back to `StrictJSONDecoder`).
    static func read(_ r: inout JSONReader) -> Event? {
        var cursor: UInt64?
        var at: Int64?
        var type: EventType?
        var projectId: String?
        var sessionId: String??
        var userId: String?
        var concurrencyId: String?
        var epoch: UInt64??
        var sessionSeq: UInt64??
        var data: EventData?
        let complete = r.object { r, key in
            switch key {
            case "cursor":
                guard let v = r.uint64() else { return false }
                cursor = v
            case "at":
                guard let v = r.int64() else { return false }
                at = v
            case "type":
                guard let v = r.string().flatMap(EventType.init(rawValue:)) else { return false }
                type = v
            case "projectId":
                guard let v = r.string() else { return false }
                projectId = v
            case "sessionId":
                guard let v = r.nullable({ $0.string() }) else { return false }
                sessionId = v
            case "userId":
                guard let v = r.string() else { return false }
                userId = v
            case "concurrencyId":
                guard let v = r.string() else { return false }
                concurrencyId = v
            case "epoch":
                guard let v = r.nullable({ $0.uint64() }) else { return false }
                epoch = v
            case "sessionSeq":
                guard let v = r.nullable({ $0.uint64() }) else { return false }
                sessionSeq = v
            case "data":
                guard let v = EventData.read(&r) else { return false }
                data = v
            default:
                guard r.skipValue() else { return false }
            }
            return true
        }
        guard complete, let cursor, let at, let type, let projectId, let userId, let concurrencyId, let data else {
            return nil
        }
        return Event(
            cursor: cursor, at: at, type: type, projectId: projectId, sessionId: sessionId ?? nil, userId: userId,
            concurrencyId: concurrencyId, epoch: epoch ?? nil, sessionSeq: sessionSeq ?? nil, data: data)
    }
}

extension EventData {
    /// Reads an event's data object.
    static func read(_ r: inout JSONReader) -> EventData? {
        var d = EventData()
        let complete = r.object { r, key in
            switch key {
            case "cause":
                guard let v = r.nullable({ $0.string().flatMap(DisconnectCause.init(rawValue:)) }) else { return false }
                d.cause = v
            case "reason":
                guard let v = r.nullable({ $0.string().flatMap(EndReason.init(rawValue:)) }) else { return false }
                d.reason = v
            case "deadlineAt":
                guard let v = r.nullable({ $0.int64() }) else { return false }
                d.deadlineAt = v
            case "reused":
                guard let v = r.nullable({ $0.bool() }) else { return false }
                d.reused = v
            case "transport":
                guard let v = r.nullable({ $0.string().flatMap(Transport.init(rawValue:)) }) else { return false }
                d.transport = v
            case "suspendReason":
                guard let v = r.nullable({ $0.string().flatMap(SuspendReason.init(rawValue:)) }) else {
                    return false
                }
                d.suspendReason = v
            case "retired":
                guard let v = r.nullable({ $0.bool() }) else { return false }
                d.retired = v
            case "from":
                guard let v = r.nullable({ $0.string().flatMap(SessionState.init(rawValue:)) }) else { return false }
                d.from = v
            default:
                guard r.skipValue() else { return false }
            }
            return true
        }
        return complete ? d : nil
    }
}
