/// Which store a server opens, as `--store` names it: `sqlite:PATH` (the embedded default; `--data PATH` is its
/// shorthand) or a `postgres://…` URL (``PostgresURL``). Anything else is a ``StoreError/badLocation(_:)``.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// An embedded SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL database shared by every node.
    case postgres(PostgresURL)

    /// Parses a `--store` value.
    public init(_ text: String) throws {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw StoreError.badLocation("sqlite: needs a path (sqlite:./tether.sqlite)") }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresURL(text))
        } else {
            throw StoreError.badLocation("a store is sqlite:PATH or postgres://USER@HOST:PORT/DATABASE, not \(text)")
        }
    }

    /// The location without secrets, for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): url.description
        }
    }
}
