/// Errors of a ``Store`` that are not the database's own.
public enum StoreError: Error, Sendable, Hashable {
    /// The store was closed; nothing more is written or read.
    case closed
    /// A value does not fit the database (an event cursor above `Int64.max`).
    case outOfRange(String)
    /// A row no record can be read from: an unknown enum value, a negative count, a malformed JSON column.
    case corruptRecord(String)
}
