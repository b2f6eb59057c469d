import Foundation
import Synchronization
import TetherProtocol

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client of the backend API (API.md "Backend API"), with the API key. Errors are
/// ``TetherAPIError`` (the API's answer, with its code) or ``TetherTransportError`` (no answer).
///
/// ```swift
/// let backend = TetherBackend(url: URL(string: "http://127.0.0.1:8080")!, apiKey: key)
/// _ = try await backend.createProject(id: "demo", policy: .init(capacity: 2))
/// _ = try await backend.apply(project: "demo", userId: "alice")
/// let created = try await backend.createSession(project: "demo", userId: "alice")
/// ```
///
/// Given several URLs (the nodes of a cluster), a call goes to the node that last answered; when a node cannot
/// be reached the call moves on to the next, in order. Only a call that certainly never reached a node (its
/// connection could not be made), or a `GET`, is sent again.
public struct TetherBackend: Sendable {
    /// The backend API's base URLs (`http://host:port`), in the order to try them; never empty.
    public var urls: [URL]
    /// The first of ``urls``.
    public var url: URL {
        get { urls[0] }
        set { urls[0] = newValue }
    }
    /// The API key (`Authorization: Bearer`).
    public var apiKey: String?
    /// The longest one request may take, connecting included; past it the call throws
    /// ``TetherTransportError``.
    public var timeout: Duration
    /// How `https://` URLs are spoken to: nil uses URLSession and the system's trust roots; a ``TetherTLS``
    /// (such as ``TetherTLS/trusting(caFile:)``) sends every call through AsyncHTTPClient with it.
    public var tls: TetherTLS?

    /// Which of ``urls`` answered last (shared by copies).
    private let preferred = Preferred()

    /// Creates a client of one node.
    public init(url: URL, apiKey: String?, timeout: Duration = .seconds(30), tls: TetherTLS? = nil) {
        self.init(urls: [url], apiKey: apiKey, timeout: timeout, tls: tls)
    }

    /// Creates a client of several nodes (tried in order when one cannot be reached); `urls` must not be empty.
    public init(urls: [URL], apiKey: String?, timeout: Duration = .seconds(30), tls: TetherTLS? = nil) {
        precondition(!urls.isEmpty, "TetherBackend needs a URL")
        self.urls = urls
        self.apiKey = apiKey
        self.timeout = timeout
        self.tls = tls
    }

    /// Sends `request`; the raw JSON of a 2xx answer.
    public func data<R>(for request: BackendRequest<R>) async throws -> Data {
        let (status, data) = try await exchange(request)
        guard (200..<300).contains(status) else { throw Self.apiError(status: status, body: data) }
        return data
    }

    /// Sends `request`; its decoded answer.
    public func send<R>(_ request: BackendRequest<R>) async throws -> R {
        let data = try await data(for: request)
        do {
            return try JSONDecoder().decode(R.self, from: data)
        } catch {
            throw TetherTransportError("unexpected answer to \(request.method) \(request.path): \(error)")
        }
    }

    private func exchange<R>(_ request: BackendRequest<R>) async throws -> (Int, Data) {
        let first = preferred.index % urls.count
        var failure: TetherTransportError?
        for step in 0..<urls.count {
            let index = (first + step) % urls.count
            do {
                let answer = try await exchange(request, with: urls[index])
                preferred.index = index
                return answer
            } catch let error as Unreached {
                failure = error.error
                if !(error.neverSent || request.method == "GET") { break }
            }
        }
        throw failure ?? TetherTransportError("no URL")
    }

    /// A call one node did not answer; `neverSent`: its connection could not even be made.
    struct Unreached: Error {
        var error: TetherTransportError
        var neverSent: Bool
    }

    private func exchange<R>(_ request: BackendRequest<R>, with url: URL) async throws -> (Int, Data) {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw TetherTransportError("bad URL \(url)")
        }
        let base =
            components.percentEncodedPath.hasSuffix("/")
            ? String(components.percentEncodedPath.dropLast()) : components.percentEncodedPath
        components.percentEncodedPath = base + request.path
        if !request.query.isEmpty {
            components.queryItems = request.query.map { URLQueryItem(name: $0.name, value: $0.value) }
        }
        guard let target = components.url else { throw TetherTransportError("bad URL \(url)\(request.path)") }
        if let tls { return try await exchange(request, target: target, base: url, with: tls) }
        var http = URLRequest(url: target, timeoutInterval: Double(timeout.milliseconds) / 1_000)
        http.httpMethod = request.method
        if let apiKey { http.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        http.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body = request.body {
            http.httpBody = body
            http.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let request = http
        do {
            return try await withDeadline(timeout, "\(request.httpMethod ?? "GET") \(target.absoluteString)") {
                let (data, response) = try await URLSession.shared.data(for: request)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
            }
        } catch let error as TetherTransportError {
            throw Unreached(error: error, neverSent: false)
        } catch {
            let neverSent = [.cannotConnectToHost, .cannotFindHost, .dnsLookupFailed].contains(
                (error as? URLError)?.code)
            throw Unreached(
                error: TetherTransportError("cannot reach \(url.absoluteString): \(error.localizedDescription)"),
                neverSent: neverSent)
        }
    }

    /// The API's error body, or a generic error carrying the status.
    static func apiError(status: Int, body: Data) -> TetherAPIError {
        if let decoded = try? JSONDecoder().decode(TetherAPIError.Body.self, from: body) {
            return TetherAPIError(
                status: status, code: decoded.error.code, message: decoded.error.message ?? "",
                requestId: decoded.error.requestId, retryAfterMs: decoded.error.retryAfterMs)
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return TetherAPIError(status: status, code: "HTTP\(status)", message: text)
    }
}

extension TetherBackend {
    /// CreateApplicationProject.
    public func createProject(id: String, policy: Policy = .init()) async throws -> Project {
        try await send(.createProject(id: id, policy: policy))
    }
    /// DescribeApplicationProjects.
    public func projects() async throws -> [Project] { try await send(.projects).projects }
    /// One project.
    public func project(_ id: String) async throws -> Project { try await send(.project(id)) }
    /// ModifyApplicationProject.
    public func updateProject(_ id: String, _ policy: Policy) async throws -> Project {
        try await send(.updateProject(id, policy))
    }
    /// DeleteApplicationProjects.
    @discardableResult
    public func deleteProject(_ id: String) async throws -> Project { try await send(.deleteProject(id)) }
    /// ApplyConcurrent.
    public func apply(project: String, userId: String, userIp: String? = nil) async throws -> Applied {
        try await send(.apply(project: project, userId: userId, userIp: userIp))
    }
    /// ApplyConcurrent with `queue: true`: a reservation, or the user's place in the waiting queue.
    public func applyQueued(project: String, userId: String, userIp: String? = nil, priority: Int? = nil)
        async throws -> ApplyOutcome
    {
        try await send(.applyQueued(project: project, userId: userId, userIp: userIp, priority: priority))
    }
    /// A project's waiting queue.
    public func queue(project: String) async throws -> QueueList { try await send(.queue(project: project)) }
    /// One user's ticket in a project's queue.
    public func queueTicket(project: String, userId: String) async throws -> QueueTicket {
        try await send(.queueTicket(project: project, userId: userId))
    }
    /// Leaves the queue (the ticket, `left`).
    @discardableResult
    public func cancelQueueTicket(project: String, userId: String) async throws -> QueueTicket {
        try await send(.cancelQueueTicket(project: project, userId: userId))
    }
    /// CreateSession.
    public func createSession(
        project: String, userId: String, userIp: String? = nil, clientSession: String? = nil,
        runMode: String? = nil, parametersJSON: String? = nil
    ) async throws -> CreatedSession {
        try await send(
            .createSession(
                project: project, userId: userId, userIp: userIp, clientSession: clientSession, runMode: runMode,
                parametersJSON: parametersJSON))
    }
    /// DestroySession by id.
    @discardableResult
    public func destroySession(_ sessionId: String) async throws -> Session {
        try await send(.destroySession(sessionId))
    }
    /// DestroySession by user.
    @discardableResult
    public func destroySession(project: String, userId: String) async throws -> Session {
        try await send(.destroySession(project: project, userId: userId))
    }
    /// DescribeConcurrentCount.
    public func count(project: String) async throws -> ConcurrencyCount { try await send(.count(project: project)) }
    /// A project's sessions (live ones, or `state: "ended"`).
    public func sessions(project: String, state: String? = nil) async throws -> [Session] {
        try await send(.sessions(project: project, state: state)).sessions
    }
    /// One session with history and stats.
    public func session(_ sessionId: String) async throws -> Session { try await send(.session(sessionId)) }
    /// Lifecycle events after a cursor.
    public func events(after: UInt64? = nil, project: String? = nil, limit: Int? = nil) async throws -> EventPage {
        try await send(.events(after: after, project: project, limit: limit))
    }
}

/// The index of the URL that answered last, shared by every copy of a ``TetherBackend``.
private final class Preferred: Sendable {
    private let value = Mutex(0)
    var index: Int {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
