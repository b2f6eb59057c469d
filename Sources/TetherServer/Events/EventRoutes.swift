import Foundation
import HTTPTypes
import Hummingbird
import TetherCore
import TetherProtocol
import TetherStore

/// `GET /v1/events`: the event log, as pages of JSON or as Server-Sent Events (``EventStream``), read from a feed
/// of committed events and the store. The owner's feed is its broker's; a follower's is its ``EventMirror``, so
/// every node serves the log itself, with the same answer.
struct EventRoutes: Sendable {
    let feed: EventFeed
    let store: any Store
    /// How often an SSE stream says it is alive.
    let keepAliveMs: Int64
    /// Brings the feed up to date before a call reads it (a follower's mirror, idle without streams).
    var refresh: (@Sendable () async throws -> Void)? = nil
    /// Whether a key is still accepted: a stream opened with a key ends once it is revoked.
    var keyIsLive: @Sendable (String) -> Bool = { _ in true }
    /// Re-reads the keys before a stream's check (a follower's ring, which changes only in the store).
    var reloadKeys: (@Sendable () async throws -> Void)? = nil

    func add(to router: RouterGroup<TetherRequestContext>) {
        router.get("/events") { request, context -> Response in
            let query = request.uri.queryParameters
            var after: UInt64 = 0
            if let raw = query["after"] {
                guard let value = UInt64(raw) else {
                    throw APIError.invalidValue("after", "must be a cursor (an unsigned integer)")
                }
                after = value
            }
            let stream = request.headers[.accept]?.contains("text/event-stream") ?? false
            if stream, let raw = request.headers[HTTPField.Name("Last-Event-ID")!] {
                guard let value = UInt64(raw.trimmingCharacters(in: .whitespaces)) else {
                    throw APIError.invalidValue("Last-Event-ID", "must be a cursor (an unsigned integer)")
                }
                after = value
            }
            let limit = try PageLimit.parse(query)
            let projectId = query["projectId"].map(String.init)
            // A project key sees its projects' events only; naming another project is a 404, as elsewhere.
            if let projectId, !context.scope.sees(projectId) { throw BrokerError.projectNotFound(projectId) }
            let scope = context.scope
            let prunedThrough = try await store.eventsPrunedThrough()
            if after > 0 && after < prunedThrough {
                throw APIError(
                    .gone, code: "FailedOperation.EventsPruned",
                    message:
                        "after: events up to cursor \(prunedThrough) were removed by retention; resume from 0 (the oldest kept) or from \(prunedThrough)"
                )
            }
            try await refresh?()
            let reader = EventReader(feed: feed, store: store)
            if stream {
                let keyId = context.keyId ?? ""
                let keyIsLive = self.keyIsLive
                let reloadKeys = self.reloadKeys
                return EventStream(
                    reader: reader, after: after, projectId: projectId, scope: scope,
                    keepAlive: .milliseconds(keepAliveMs),
                    keyIsLive: {
                        try? await reloadKeys?()
                        return keyIsLive(keyId)
                    }
                ).response()
            }
            let (read, _) = try await reader.read(after: after, projectId: projectId, limit: limit)
            guard case .projects = scope, projectId == nil else {
                return try TetherAPI.EventPage(
                    events: read.map(TetherAPI.Event.init), nextCursor: read.last?.cursor ?? after
                ).response(from: request, context: context)
            }
            // A project key's page: its projects' events among those read, and a cursor past the others.
            let events = read.filter { scope.sees($0.projectId) }
            return try TetherAPI.EventPage(
                events: events.map(TetherAPI.Event.init), nextCursor: read.last?.cursor ?? after
            ).response(from: request, context: context)
        }
    }
}
