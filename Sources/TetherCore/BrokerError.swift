/// Why the broker refused a command. A refused command changes nothing.
public enum BrokerError: Error, Sendable, Hashable {
    /// A field is missing, malformed or out of range; `field` is its JSON path (`heartbeat.timeoutMs`).
    case invalidParameter(field: String, message: String)
    /// No project with this id.
    case projectNotFound(ProjectID)
    /// A project with this id exists already.
    case projectExists(ProjectID)
    /// No live session matches.
    case sessionNotFound(String)
    /// Every slot of the project is taken; try again after `retryAfterMs`.
    case noIdle(retryAfterMs: Millis)
    /// CreateSession without a live reservation or a session in grace for the user.
    case lockTimeout(UserID)
    /// A client connection that is not (or no longer) the session's: an older epoch, or a replaced connection.
    case fenced(SessionID)
    /// A resume token that is unknown or already used.
    case badToken
    /// The project's waiting queue holds `maxLength` tickets.
    case queueFull(maxLength: Int)
    /// The user has no ticket in the project's queue.
    case ticketNotFound(ProjectID, UserID)
    /// A client's `Origin` is not one of its project's `allowedOrigins`.
    case originNotAllowed(String)
    /// The server is stopping (graceful shutdown): nothing was done; try again after `retryAfterMs`, on the
    /// restarted server. Not a statement about the session, which the shutdown keeps in grace.
    case stopping(retryAfterMs: Millis)

    /// The contract's error code (CAR's where CAR has one).
    public var code: String {
        switch self {
        case .invalidParameter: "InvalidParameterValue"
        case .projectNotFound: "ResourceNotFound.Project"
        case .projectExists: "ResourceInUse.Project"
        case .sessionNotFound: "ResourceNotFound.SessionNotFound"
        case .noIdle: "ResourceNotFound.NoIdle"
        case .lockTimeout: "FailedOperation.LockTimeout"
        case .fenced: "FailedOperation.Fenced"
        case .badToken: "AuthFailure.BadToken"
        case .queueFull: "LimitExceeded.Queue"
        case .ticketNotFound: "ResourceNotFound.Ticket"
        case .originNotAllowed: "UnauthorizedOperation.Origin"
        case .stopping: "InternalError.ShuttingDown"
        }
    }

    /// A message for people.
    public var message: String {
        switch self {
        case .invalidParameter(let field, let message): "\(field): \(message)"
        case .projectNotFound(let id): "project '\(id)' not found"
        case .projectExists(let id): "project '\(id)' already exists"
        case .sessionNotFound(let id): "session '\(id)' not found"
        case .noIdle(let retry): "no idle concurrency; retry after \(retry) ms"
        case .lockTimeout(let user): "user '\(user)' has no live reservation; call ApplyConcurrent first"
        case .fenced(let id): "connection is not the current one of session '\(id)'"
        case .badToken: "unknown or used token"
        case .queueFull(let max): "the project's waiting queue is full (\(max) tickets)"
        case .ticketNotFound(let project, let user): "user '\(user)' has no ticket in the queue of project '\(project)'"
        case .originNotAllowed(let origin): "origin '\(origin)' is not allowed to connect to this project"
        case .stopping(let retry): "the server is stopping; try again after \(retry) ms"
        }
    }
}
