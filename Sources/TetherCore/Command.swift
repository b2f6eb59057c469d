/// Everything that can happen to the broker, besides time passing.
public enum Command: Sendable, Hashable {
    /// CreateApplicationProject.
    case createProject(id: ProjectID, name: String, policy: Policy)
    /// ModifyApplicationProject.
    case updateProject(ProjectID, ProjectPatch)
    /// DeleteApplicationProjects: ends its sessions with `projectDeleted`.
    case deleteProject(ProjectID)
    /// ApplyConcurrent.
    case apply(ProjectID, userId: UserID, userIp: String?)
    /// ApplyConcurrent with `queue: true`: a reservation as ``apply(_:userId:userIp:)`` gives when a concurrency
    /// is idle (or the user holds one), else a place in the queue (``Reply/queued(_:)``) when the project's queue
    /// is enabled. `ticketId` is used only when a new ticket is made (the shell mints it).
    case applyQueued(ProjectID, userId: UserID, userIp: String?, priority: Int, ticketId: TicketID)
    /// Leaves the queue (`DELETE /v1/projects/{id}/queue/{userId}`): an offered concurrency goes to the next.
    case cancelTicket(ProjectID, UserID)
    /// A queued client's `hello {queueToken}` for a ticket the shell verified the token of: its place
    /// (``Reply/queued(_:)``); an older connection of the same ticket is kicked (`replaced`).
    /// `origin`: the connection's `Origin` header, checked against the project's `allowedOrigins`.
    case queueHello(ProjectID, TicketID, connection: ConnectionID, origin: String? = nil)
    /// A queued client's `bye`: its ticket leaves (reason `left`).
    case queueBye(ProjectID, UserID, connection: ConnectionID)
    /// A queued client's connection closed; `lastSeenAt`: when it was last heard from. The ticket stays; it
    /// leaves (reason `timeout`) unless a connection comes back within `queue.clientTimeoutMs` of that.
    case queueClientLost(ProjectID, UserID, connection: ConnectionID, lastSeenAt: Millis)
    /// CreateSession. `sessionId` is used only when a new session is made (the shell mints it).
    case createSession(ProjectID, userId: UserID, sessionId: SessionID, metadata: SessionMetadata)
    /// DestroySession by session id.
    case destroySession(SessionID)
    /// DestroySession by project and user.
    case destroyUserSession(ProjectID, UserID)
    /// A client's `hello` with a client token the shell verified for (session, epoch).
    /// `resumeTokenHash` is the hash of the fresh resume token the `welcome` will carry.
    /// `origin`: the connection's `Origin` header, checked against the project's `allowedOrigins`.
    case hello(
        SessionID, epoch: UInt64, connection: ConnectionID, transport: Transport, resumeTokenHash: String,
        origin: String? = nil)
    /// A client's `hello` with a resume token (by its hash); starts a new epoch.
    case resume(
        resumeTokenHash: String, connection: ConnectionID, transport: Transport, newResumeTokenHash: String,
        origin: String? = nil)
    /// Any inbound message of an attached connection; it also ends a suspension.
    case heartbeat(SessionID, connection: ConnectionID)
    /// A transport-level sign of life (a WebSocket ping or pong frame, a TCP `pong`): keeps a connected
    /// session alive but does not end a declared suspension (a background tab answers pings by itself).
    case keepalive(SessionID, connection: ConnectionID)
    /// A client's `suspend`.
    case suspend(SessionID, connection: ConnectionID, expectedMs: Millis, reason: SuspendReason)
    /// A client's `bye`.
    case bye(SessionID, connection: ConnectionID)
    /// The transport of a connection closed or failed.
    case connectionLost(SessionID, connection: ConnectionID, cause: DisconnectCause)
    /// The server is stopping: connections are kicked with `shutdown` and their sessions go to grace. Their
    /// `retryAfterMs` start at `retryAfterMs` and are spread so that they come back at `paceRatePerSecond`
    /// (the server's hello rate; 0: all at `retryAfterMs`).
    case shutdown(retryAfterMs: Millis, paceRatePerSecond: Double = 0)
}

/// The broker's answer to a command.
public enum Reply: Sendable, Hashable {
    /// Nothing to say.
    case none
    /// A project (created, updated or deleted).
    case project(Project)
    /// ApplyConcurrent's answer.
    case applied(Applied)
    /// A session (created, destroyed, or the one a client connected to).
    case session(Session)
    /// A queued apply's place, or a ticket's.
    case queued(QueuePlace)
    /// A ticket that left the queue.
    case ticket(QueueTicket)
}
