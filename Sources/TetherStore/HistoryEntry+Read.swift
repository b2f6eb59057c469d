import TetherCore
import TetherProtocol

// A session's `history` column read back without a `Decoder` (a restart reads every live session's). Anything
// the fast reader does not expect (a missing or repeated member, a fraction, an unknown enum value) falls back
// to `StrictJSONDecoder`, which decides (`SessionRecord.history(from:)`); RecordColumnsTests compares both.

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
