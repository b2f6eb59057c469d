/// Milliseconds: a duration (`...Ms`) or a Unix epoch time (`...At`), as in the API.
public typealias Millis = Int64

/// A project's id, chosen by the backend (`[A-Za-z0-9_-]{1,64}`).
public typealias ProjectID = String

/// The backend's id of an end user (1 to 128 printable characters).
public typealias UserID = String

/// A session's id, minted by the shell (unique across nodes) and kept for the session's life.
public typealias SessionID = String

/// A concurrency slot's id, `cc-<projectId>-<n>`; stable across restarts.
public typealias ConcurrencyID = String

/// The shell's id of one client connection (unique within a process).
public typealias ConnectionID = UInt64
