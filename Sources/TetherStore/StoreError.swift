/// Errors of a ``Store`` that are not the database's own.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The store was closed; nothing more is written or read.
    case closed
    /// A value does not fit the database (an event cursor above `Int64.max`).
    case outOfRange(String)
    /// A row no record can be read from: an unknown enum value, a negative count, a malformed JSON column.
    case corruptRecord(String)
    /// A `--store` value that names no store: a malformed URL, an unknown scheme or parameter.
    case badLocation(String)
    /// The database's schema is newer than this binary knows (a newer Tether migrated it): refuse to run.
    case schemaTooNew(found: String, known: String)
    /// The database cannot be reached or refused the connection.
    case unreachable(String)
    /// Another server holds the database, or a live node has the same node id.
    case inUse(String)
    /// This node lost the cluster's lease: its write was refused, nothing of it written.
    case fenced(String)

    public var description: String {
        switch self {
        case .closed: "the store is closed"
        case .outOfRange(let what): "out of range: \(what)"
        case .corruptRecord(let what): "corrupt record: \(what)"
        case .badLocation(let what): what
        case .schemaTooNew(let found, let known):
            "the database's schema (\(found)) is newer than this binary's (\(known)): run the newer Tether, or restore a backup"
        case .unreachable(let what): "cannot reach the database: \(what)"
        case .inUse(let what): what
        case .fenced(let what): "fenced: \(what)"
        }
    }
}
