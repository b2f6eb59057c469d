import Foundation
import TetherCore

// Session records read back without a `Decoder` (a restart reads every live one). Anything the fast
// reader does not expect (a missing or repeated member, a fraction, an unknown enum value) falls back to
// `StrictJSONDecoder`, which decides; RecordCodingTests compares both.

extension RecordCoding {
    /// A session record from its JSON text.
    static func decodeSession(from json: String) throws -> Session {
        var json = json
        if let session = json.withUTF8({ bytes -> Session? in
            var reader = JSONReader(bytes)
            guard let session = Session.read(&reader), reader.atEnd() else { return nil }
            return session
        }) {
            return session
        }
        return try decode(Session.self, from: json)
    }
}

extension Session {
    /// Reads a session object; `nil` when anything is off (the caller falls back to `StrictJSONDecoder`).
    static func read(_ r: inout JSONReader) -> Session? {
        var id: String?
        var projectId: String?
        var userId: String?
        var concurrencyId: String?
        var epoch: UInt64?
        var state: SessionState?
        var createdAt: Int64?
        var updatedAt: Int64?
        var everConnected: Bool?
        var seq: UInt64?
        var metadata: SessionMetadata?
        var history: [HistoryEntry]?
        var endReason: EndReason?
        var lastCause: DisconnectCause?
        var deadlineAt: Int64?
        var endedAt: Int64?
        var lastHeartbeatAt: Int64?
        var connection: UInt64?
        var transport: Transport?
        var resumeTokenHash: String?
        var previousResumeTokenHash: String?
        var previousResumeTokenUntil: Int64?
        let complete = r.object { r, key in
            switch key {
            case "id":
                guard let v = r.string() else { return false }
                id = v
            case "projectId":
                guard let v = r.string() else { return false }
                projectId = v
            case "userId":
                guard let v = r.string() else { return false }
                userId = v
            case "concurrencyId":
                guard let v = r.string() else { return false }
                concurrencyId = v
            case "epoch":
                guard let v = r.uint64() else { return false }
                epoch = v
            case "state":
                guard let v = r.string().flatMap(SessionState.init(rawValue:)) else { return false }
                state = v
            case "createdAt":
                guard let v = r.int64() else { return false }
                createdAt = v
            case "updatedAt":
                guard let v = r.int64() else { return false }
                updatedAt = v
            case "everConnected":
                guard let v = r.bool() else { return false }
                everConnected = v
            case "seq":
                guard let v = r.uint64() else { return false }
                seq = v
            case "metadata":
                guard let v = SessionMetadata.read(&r) else { return false }
                metadata = v
            case "history":
                guard let v = HistoryEntry.readArray(&r) else { return false }
                history = v
            case "endReason":
                guard let v = r.nullable({ $0.string().flatMap(EndReason.init(rawValue:)) }) else { return false }
                endReason = v
            case "lastCause":
                guard let v = r.nullable({ $0.string().flatMap(DisconnectCause.init(rawValue:)) }) else { return false }
                lastCause = v
            case "deadlineAt":
                guard let v = r.nullable({ $0.int64() }) else { return false }
                deadlineAt = v
            case "endedAt":
                guard let v = r.nullable({ $0.int64() }) else { return false }
                endedAt = v
            case "lastHeartbeatAt":
                guard let v = r.nullable({ $0.int64() }) else { return false }
                lastHeartbeatAt = v
            case "connection":
                guard let v = r.nullable({ $0.uint64() }) else { return false }
                connection = v
            case "transport":
                guard let v = r.nullable({ $0.string().flatMap(Transport.init(rawValue:)) }) else { return false }
                transport = v
            case "resumeTokenHash":
                guard let v = r.nullable({ $0.string() }) else { return false }
                resumeTokenHash = v
            case "previousResumeTokenHash":
                guard let v = r.nullable({ $0.string() }) else { return false }
                previousResumeTokenHash = v
            case "previousResumeTokenUntil":
                guard let v = r.nullable({ $0.int64() }) else { return false }
                previousResumeTokenUntil = v
            default:
                guard r.skipValue() else { return false }
            }
            return true
        }
        guard complete else { return nil }
        guard let id, let projectId, let userId, let concurrencyId, let epoch, let state, let createdAt, let updatedAt,
            let everConnected, let seq, let metadata, let history
        else { return nil }
        var s = Session(
            id: id, projectId: projectId, userId: userId, concurrencyId: concurrencyId, epoch: epoch, state: state,
            createdAt: createdAt, metadata: metadata)
        s.updatedAt = updatedAt
        s.everConnected = everConnected
        s.seq = seq
        s.history = history
        s.endReason = endReason
        s.lastCause = lastCause
        s.deadlineAt = deadlineAt
        s.endedAt = endedAt
        s.lastHeartbeatAt = lastHeartbeatAt
        s.connection = connection
        s.transport = transport
        s.resumeTokenHash = resumeTokenHash
        s.previousResumeTokenHash = previousResumeTokenHash
        s.previousResumeTokenUntil = previousResumeTokenUntil
        return s
    }
}

extension SessionMetadata {
    /// Reads a metadata object.
    static func read(_ r: inout JSONReader) -> SessionMetadata? {
        var m = SessionMetadata()
        let complete = r.object { r, key in
            var value: String?
            if !r.null() {
                switch key {
                case "userIp", "clientSession", "runMode", "parameters":
                    guard let v = r.string() else { return false }
                    value = v
                default:
                    guard r.skipValue() else { return false }
                    return true
                }
            }
            switch key {
            case "userIp": m.userIp = value
            case "clientSession": m.clientSession = value
            case "runMode": m.runMode = value
            case "parameters": m.parameters = value
            default: break
            }
            return true
        }
        guard complete else { return nil }
        return m
    }
}

extension HistoryEntry {
    /// Reads an array of history entries.
    static func readArray(_ r: inout JSONReader) -> [HistoryEntry]? {
        guard r.beginArray() else { return nil }
        var entries: [HistoryEntry] = []
        var first = true
        while true {
            guard let more = r.nextElement(first: first) else { return nil }
            guard more else { return entries }
            first = false
            guard let entry = read(&r) else { return nil }
            entries.append(entry)
        }
    }

    /// Reads one history entry.
    static func read(_ r: inout JSONReader) -> HistoryEntry? {
        var at: Int64?
        var type: EventType?
        var state: SessionState?
        var epoch: UInt64?
        var cause: DisconnectCause?
        var reason: EndReason?
        let complete = r.object { r, key in
            switch key {
            case "at":
                guard let v = r.int64() else { return false }
                at = v
            case "type":
                guard let v = r.string().flatMap(EventType.init(rawValue:)) else { return false }
                type = v
            case "state":
                guard let v = r.string().flatMap(SessionState.init(rawValue:)) else { return false }
                state = v
            case "epoch":
                guard let v = r.uint64() else { return false }
                epoch = v
            case "cause":
                guard let v = r.nullable({ $0.string().flatMap(DisconnectCause.init(rawValue:)) }) else { return false }
                cause = v
            case "reason":
                guard let v = r.nullable({ $0.string().flatMap(EndReason.init(rawValue:)) }) else { return false }
                reason = v
            default:
                guard r.skipValue() else { return false }
            }
            return true
        }
        guard complete else { return nil }
        guard let at, let type, let state, let epoch else { return nil }
        return HistoryEntry(at: at, type: type, state: state, epoch: epoch, cause: cause, reason: reason)
    }
}
