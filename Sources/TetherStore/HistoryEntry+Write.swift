import TetherCore
import TetherProtocol

// A session's history entry as the `history` column holds it, written by hand (see `JSONWriter`). The members
// are the synthesized `Codable` ones (property names; `nil` left out; enums as raw values), so `JSONDecoder`
// reads them back equal; RecordColumnsTests checks both ways.

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
