import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import TetherCore
import TetherProtocol
import TetherStore

/// `GET /v1/events` with `Accept: text/event-stream`: the event log as Server-Sent Events.
///
/// Each event is `id: <cursor>`, `event: <type>`, `data: <the event's JSON on one line>`. The stream starts
/// after `Last-Event-ID` (or `?after=`), sends every later durable event once and in cursor order, and a
/// `: keepalive` comment every `keepAlive` (15 s by default) so proxies and readers know it is alive. It ends when the
/// client goes away or the server shuts down; the reader reconnects with its last id and misses nothing.
struct EventStream: Sendable {
    /// Events read per round.
    static let batch = 500

    let reader: EventReader
    let after: UInt64
    let projectId: ProjectID?
    /// What the stream's key sees: a project key's stream has its projects' events only.
    var scope: KeyScope = .admin
    /// How often the stream sends a `: keepalive` comment.
    let keepAlive: Duration
    /// Checked at each wake-up: the stream ends once its key is revoked.
    var keyIsLive: @Sendable () async -> Bool = { true }

    /// The SSE frames of `events`, each event's JSON written once by the store's `JSONWriter` (a storm of
    /// reconnections is tens of thousands of events for every reader; `JSONEncoder` was most of the server's
    /// CPU then, docs/PERFORMANCE.md).
    static func frames(_ events: [Event]) -> ByteBuffer {
        var json = JSONWriter(capacity: 512)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(events.count * 320)
        for event in events {
            json.reset()
            TetherAPI.Event(event).writeJSON(into: &json)
            buffer.writeString("id: \(event.cursor)\nevent: \(event.type.rawValue)\ndata: ")
            buffer.writeBytes(json.bytes)
            buffer.writeString("\n\n")
        }
        return buffer
    }

    /// The streaming response.
    func response() -> Response {
        let reader = self.reader
        let after = self.after
        let projectId = self.projectId
        let keepAlive = self.keepAlive
        let scope = self.scope
        let keyIsLive = self.keyIsLive
        let body = ResponseBody { writer in
            let subscription = reader.feed.subscribe(idleAfter: keepAlive)
            var cursor = after
            try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
            try await withGracefulShutdownHandler {
                var iterator = subscription.signals.makeAsyncIterator()
                var signal: EventFeed.Signal? = .new
                while let current = signal, await keyIsLive() {
                    if case .idle = current { try await writer.write(ByteBuffer(string: ": keepalive\n\n")) }
                    // Drain everything durable, then wait for news.
                    while true {
                        let (events, through) = try await reader.read(
                            after: cursor, projectId: projectId, limit: Self.batch)
                        let visible: [Event]
                        if case .projects = scope {
                            visible = events.filter { scope.sees($0.projectId) }
                        } else {
                            visible = events
                        }
                        if !visible.isEmpty { try await writer.write(Self.frames(visible)) }
                        guard through > cursor else { break }
                        cursor = through
                    }
                    signal = await iterator.next()
                }
            } onGracefulShutdown: {
                subscription.finish()  // this stream only: the feed serves the webhooks until the end
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache",
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ],
            body: body)
    }
}
