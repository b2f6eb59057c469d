/// A body that ``JSONWriter`` can write: the server's response encoder takes this fast path, and falls back
/// to `JSONEncoder` when ``writeJSON(to:)`` declines.
public protocol JSONWritable: Encodable {
    /// Writes the value; `false` (and nothing written) when it needs `JSONEncoder` (e.g. numbers with fractions).
    func writeJSON(to w: inout JSONWriter) -> Bool
}

extension TetherAPI.Applied: JSONWritable {
    public func writeJSON(to w: inout JSONWriter) -> Bool {
        writeJSON(into: &w)
        return true
    }
}

extension TetherAPI.CreatedSession: JSONWritable {
    public func writeJSON(to w: inout JSONWriter) -> Bool {
        writeJSON(into: &w)
        return true
    }
}

extension TetherAPI.Session: JSONWritable {
    public func writeJSON(to w: inout JSONWriter) -> Bool { writeJSON(into: &w) }
}

extension TetherAPI.EventPage: JSONWritable {
    public func writeJSON(to w: inout JSONWriter) -> Bool {
        writeJSON(into: &w)
        return true
    }
}
