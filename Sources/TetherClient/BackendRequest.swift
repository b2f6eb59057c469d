import Foundation
import TetherProtocol

/// One call of the backend API: method, path, query, JSON body, and the type its success answer decodes to.
/// Built by the static functions below; sent with ``TetherBackend/send(_:)`` (typed) or
/// ``TetherBackend/data(for:)`` (the raw JSON, as the CLI's `--json` prints it).
public struct BackendRequest<Response: Decodable & Sendable>: Sendable {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    public var method: String
    /// The path, percent-encoded (e.g. `/v1/projects/demo`).
    public var path: String
    /// Query parameters, in order.
    public var query: [QueryItem]
    /// The JSON body.
    public var body: Data?

    /// One `name=value` of the query.
    public struct QueryItem: Sendable, Hashable {
        /// The name.
        public var name: String
        /// The value.
        public var value: String
    }

    /// Creates a request.
    public init(method: String, path: String, query: [QueryItem] = [], body: Data? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }
}

/// A percent-encoded path segment.
func segment(_ s: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "/?#")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
}

/// The JSON of a request body (keys sorted, `nil` members left out).
func jsonBody(_ body: some Encodable) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return (try? encoder.encode(body)) ?? Data("{}".utf8)
}

extension BackendRequest where Response == TetherBackend.Project {
    /// CreateApplicationProject: `POST /v1/projects`.
    public static func createProject(id: String, policy: TetherBackend.Policy = .init()) -> Self {
        Self(method: "POST", path: "/v1/projects", body: jsonBody(policy.createRequest(id: id)))
    }

    /// DescribeApplicationProjects (one): `GET /v1/projects/{id}`.
    public static func project(_ id: String) -> Self { Self(method: "GET", path: "/v1/projects/\(segment(id))") }

    /// ModifyApplicationProject: `PATCH /v1/projects/{id}`.
    public static func updateProject(_ id: String, _ policy: TetherBackend.Policy) -> Self {
        Self(method: "PATCH", path: "/v1/projects/\(segment(id))", body: jsonBody(policy.updateRequest))
    }

    /// DeleteApplicationProjects: `DELETE /v1/projects/{id}` (ends its sessions, reason `projectDeleted`).
    public static func deleteProject(_ id: String) -> Self {
        Self(method: "DELETE", path: "/v1/projects/\(segment(id))")
    }
}

extension BackendRequest where Response == TetherBackend.ProjectList {
    /// DescribeApplicationProjects: `GET /v1/projects`.
    public static var projects: Self { Self(method: "GET", path: "/v1/projects") }
}

extension BackendRequest where Response == TetherBackend.Applied {
    /// ApplyConcurrent: `POST /v1/projects/{id}/concurrency/apply`.
    public static func apply(project: String, userId: String, userIp: String? = nil) -> Self {
        Self(
            method: "POST", path: "/v1/projects/\(segment(project))/concurrency/apply",
            body: jsonBody(TetherAPI.ApplyRequest(userId: userId, userIp: userIp)))
    }
}

extension BackendRequest where Response == TetherBackend.CreatedSession {
    /// CreateSession: `POST /v1/projects/{id}/sessions`. `parameters`: any JSON text, passed through.
    public static func createSession(
        project: String, userId: String, userIp: String? = nil, clientSession: String? = nil,
        runMode: String? = nil, parametersJSON: String? = nil
    ) -> Self {
        let body = TetherAPI.CreateSessionRequest(
            userId: userId, userIp: userIp, clientSession: clientSession, runMode: runMode,
            parameters: parametersJSON.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) })
        return Self(method: "POST", path: "/v1/projects/\(segment(project))/sessions", body: jsonBody(body))
    }
}

extension BackendRequest where Response == TetherBackend.Session {
    /// DestroySession by id: `DELETE /v1/sessions/{id}`.
    public static func destroySession(_ sessionId: String) -> Self {
        Self(method: "DELETE", path: "/v1/sessions/\(segment(sessionId))")
    }

    /// DestroySession by user: `DELETE /v1/projects/{id}/users/{userId}/session`.
    public static func destroySession(project: String, userId: String) -> Self {
        Self(method: "DELETE", path: "/v1/projects/\(segment(project))/users/\(segment(userId))/session")
    }

    /// A session with its history and stats: `GET /v1/sessions/{id}`.
    public static func session(_ sessionId: String) -> Self {
        Self(method: "GET", path: "/v1/sessions/\(segment(sessionId))")
    }
}

extension BackendRequest where Response == TetherBackend.SessionList {
    /// A project's sessions: `GET /v1/projects/{id}/sessions?state=`.
    public static func sessions(project: String, state: String? = nil) -> Self {
        Self(
            method: "GET", path: "/v1/projects/\(segment(project))/sessions",
            query: state.map { [QueryItem(name: "state", value: $0)] } ?? [])
    }
}

extension BackendRequest where Response == TetherBackend.ConcurrencyCount {
    /// DescribeConcurrentCount: `GET /v1/projects/{id}/concurrency`.
    public static func count(project: String) -> Self {
        Self(method: "GET", path: "/v1/projects/\(segment(project))/concurrency")
    }
}

extension BackendRequest where Response == TetherBackend.EventPage {
    /// Lifecycle events after a cursor: `GET /v1/events?after=&projectId=&limit=`.
    public static func events(after: UInt64? = nil, project: String? = nil, limit: Int? = nil) -> Self {
        var query: [QueryItem] = []
        if let after { query.append(QueryItem(name: "after", value: String(after))) }
        if let project { query.append(QueryItem(name: "projectId", value: project)) }
        if let limit { query.append(QueryItem(name: "limit", value: String(limit))) }
        return Self(method: "GET", path: "/v1/events", query: query)
    }
}

extension BackendRequest where Response == TetherBackend.ApplyOutcome {
    /// ApplyConcurrent with `queue: true`: a reservation, or a place in the project's waiting queue.
    public static func applyQueued(project: String, userId: String, userIp: String? = nil, priority: Int? = nil) -> Self
    {
        Self(
            method: "POST", path: "/v1/projects/\(segment(project))/concurrency/apply",
            body: jsonBody(TetherAPI.ApplyRequest(userId: userId, userIp: userIp, queue: true, priority: priority)))
    }
}

extension BackendRequest where Response == TetherBackend.QueueList {
    /// A project's waiting queue: `GET /v1/projects/{id}/queue`.
    public static func queue(project: String) -> Self {
        Self(method: "GET", path: "/v1/projects/\(segment(project))/queue")
    }
}

extension BackendRequest where Response == TetherBackend.QueueTicket {
    /// One user's ticket: `GET /v1/projects/{id}/queue/{userId}`.
    public static func queueTicket(project: String, userId: String) -> Self {
        Self(method: "GET", path: "/v1/projects/\(segment(project))/queue/\(segment(userId))")
    }

    /// Leaves the queue: `DELETE /v1/projects/{id}/queue/{userId}`.
    public static func cancelQueueTicket(project: String, userId: String) -> Self {
        Self(method: "DELETE", path: "/v1/projects/\(segment(project))/queue/\(segment(userId))")
    }
}
