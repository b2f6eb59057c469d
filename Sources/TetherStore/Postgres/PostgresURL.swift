import Foundation

/// Where a ``PostgresStore`` connects: a libpq-style URL,
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full]`.
///
/// Parsing is pure and strict: a scheme other than `postgres` or `postgresql`, no user, no host, no database, a
/// port outside 1–65535, an unknown `sslmode` or any other query parameter is a ``StoreError/badLocation(_:)``.
/// Percent escapes in the user, password and database are decoded. `sslmode` means what it means to libpq:
/// `prefer` (the default) uses TLS when the server offers it, `require` insists on it without checking the
/// certificate, `verify-full` checks the certificate and the host name against the system's trust roots.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    /// Parses the URL.
    public init(_ text: String) throws {
        func bad(_ why: String) -> StoreError { .badLocation("postgres URL: \(why)") }
        guard let components = URLComponents(string: text) else { throw bad("not a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw bad("the scheme must be postgres:// or postgresql://")
        }
        guard let host = components.host, !host.isEmpty else { throw bad("no host") }
        guard let user = components.user, !user.isEmpty else { throw bad("no user") }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw bad("port \(port) is out of range") }
        let path = components.percentEncodedPath
        guard path.hasPrefix("/"), let database = String(path.dropFirst()).removingPercentEncoding,
            !database.isEmpty, !database.contains("/")
        else { throw bad("no database (postgres://USER@HOST:PORT/DATABASE)") }
        var sslMode = SSLMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else { throw bad("unknown parameter \(item.name)") }
            guard let value = item.value, let mode = SSLMode(rawValue: value) else {
                throw bad(
                    "sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = port
        self.username = components.user?.removingPercentEncoding ?? user
        self.password = components.password?.removingPercentEncoding
        self.database = database
        self.sslMode = sslMode
    }

    /// The URL with the password left out, for logs and errors.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)@\(h):\(port)/\(database)"
            + (sslMode == .prefer ? "" : "?sslmode=\(sslMode.rawValue)")
    }
}
