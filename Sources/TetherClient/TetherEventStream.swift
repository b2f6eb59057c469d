import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Reads the backend API's event feed as Server-Sent Events (`GET /v1/events` with
/// `Accept: text/event-stream`), over plain HTTP on SwiftNIO (no TLS: `http://` URLs only).
///
/// ```swift
/// let feed = TetherEventStream(url: URL(string: "http://127.0.0.1:8080")!, apiKey: key, project: "demo")
/// for try await event in feed.follow(after: 0) { print(event.id ?? "-", event.data) }
/// ```
///
/// ``open(after:)`` is one connection; ``follow(after:)`` reconnects after a drop or a server restart with
/// `Last-Event-ID` set to the last cursor seen (exponential backoff with full jitter), so every event arrives
/// once and in order. API errors (a wrong key, `FailedOperation.EventsPruned`) end it.
public struct TetherEventStream: Sendable {
    /// The backend API's base URL (`http://host:port`).
    public var url: URL
    /// Other nodes of the cluster: ``follow(after:)`` moves on to the next of `[url] + alternates`, in order,
    /// after each failed connection.
    public var alternates: [URL] = []
    /// The API key (`Authorization: Bearer`).
    public var apiKey: String?
    /// Only this project's events (`?projectId=`), or every project's.
    public var project: String?
    /// Reconnect delays of ``follow(after:)``.
    public var backoff = Backoff(base: .milliseconds(250), cap: .seconds(5))
    /// A connection that receives nothing for this long (the server sends a keep-alive comment every 15 s)
    /// is closed and, when following, opened again.
    public var idleTimeout: Duration = .seconds(60)
    /// TCP connect timeout.
    public var connectTimeout: Duration = .seconds(5)
    /// The event loops the connections run on.
    public var eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    /// How an `https://` URL is spoken to (the system's trust roots by default).
    public var tls: TetherTLS = .system

    /// Creates a reader.
    public init(url: URL, apiKey: String?, project: String? = nil) {
        self.url = url
        self.apiKey = apiKey
        self.project = project
    }

    /// Opens one stream of the events after cursor `after`. The sequence finishes when the server ends the
    /// stream (it does on shutdown) and throws ``TetherTransportError`` when the connection drops, or
    /// ``TetherAPIError`` when the server refused the request.
    public func open(after: UInt64) async throws -> AsyncThrowingStream<ServerSentEvent, any Error> {
        guard url.scheme == "http" || url.scheme == "https", let host = url.host else {
            throw TetherTransportError("the event stream needs an http:// or https:// URL, got \(url.absoluteString)")
        }
        let secure = url.scheme == "https"
        let port = url.port ?? (secure ? 443 : 80)
        let tls = tls
        if secure { _ = try tls.sslContext() }  // built off the event loop, once
        let (events, sink) = AsyncThrowingStream<ServerSentEvent, any Error>.makeStream()
        let idle = TimeAmount(idleTimeout)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(connectTimeout))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if secure { try sync.addHandler(tls.makeClientHandler(host: host)) }
                        try sync.addHTTPClientHandlers()
                        try sync.addHandler(IdleStateHandler(readTimeout: idle))
                        try sync.addHandler(EventStreamHandler(sink: sink))
                        return channel
                    }
                }
        } catch {
            throw TetherTransportError("cannot reach \(url.absoluteString): \(error)")
        }
        sink.onTermination = { _ in channel.close(promise: nil) }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        headers.add(name: "Accept", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-cache")
        if let apiKey { headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if after > 0 { headers.add(name: "Last-Event-ID", value: String(after)) }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: requestPath(after: after), headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return events
    }

    /// Follows the feed from cursor `after` until cancelled: each event once, in cursor order, across dropped
    /// connections and server restarts. `onRetry` hears each transport failure or 5xx answer and the delay
    /// before the next attempt. The sequence throws only ``TetherAPIError`` (a 4xx).
    public func follow(
        after: UInt64, onRetry: (@Sendable (_ error: any Error, _ delay: Duration) -> Void)? = nil
    ) -> AsyncThrowingStream<ServerSentEvent, any Error> {
        let (events, sink) = AsyncThrowingStream<ServerSentEvent, any Error>.makeStream()
        let task = Task {
            var cursor = after
            var attempt = 0
            let nodes = [url] + alternates
            var node = 0
            while !Task.isCancelled {
                var failure: any Error = TetherTransportError("the server ended the stream")
                var stream = self
                stream.url = nodes[node % nodes.count]
                do {
                    for try await event in try await stream.open(after: cursor) {
                        attempt = 0
                        if let c = event.cursor {
                            guard c > cursor else { continue }
                            cursor = c
                        }
                        sink.yield(event)
                    }
                } catch let error as TetherAPIError where error.status < 500 {
                    // A refusal (a wrong key, a pruned cursor) ends the stream; a 5xx (a node between owners in
                    // a cluster, a server shutting down) is retried like a dropped connection.
                    sink.finish(throwing: error)
                    return
                } catch {
                    failure = error
                }
                if Task.isCancelled { break }
                node += 1
                attempt += 1
                let delay = backoff.delay(attempt: attempt, unit: Double.random(in: 0..<1))
                onRetry?(failure, delay)
                try? await Task.sleep(for: delay)
            }
            sink.finish()
        }
        sink.onTermination = { _ in task.cancel() }
        return events
    }

    private func requestPath(after: UInt64) -> String {
        var components = URLComponents()
        let base = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        components.path = base + "/v1/events"
        var query = [URLQueryItem(name: "after", value: String(after))]
        if let project { query.append(URLQueryItem(name: "projectId", value: project)) }
        components.queryItems = query
        return components.percentEncodedPath + "?" + (components.percentEncodedQuery ?? "")
    }
}

/// The response side of one event stream: a 200 streams parsed events; any other status collects the body
/// and fails with the API's error; a drop before the end fails with a transport error.
final class EventStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let sink: AsyncThrowingStream<ServerSentEvent, any Error>.Continuation
    private var parser = ServerSentEventParser()
    private var status: Int?
    private var errorBody = Data()
    private var done = false

    init(sink: AsyncThrowingStream<ServerSentEvent, any Error>.Continuation) { self.sink = sink }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(let buffer):
            if status == 200 {
                for event in parser.feed(buffer.readableBytesView) { sink.yield(event) }
            } else if errorBody.count < 65_536 {
                errorBody.append(contentsOf: buffer.readableBytesView)
            }
        case .end:
            if let status, status != 200 {
                finish(throwing: TetherBackend.apiError(status: status, body: errorBody))
            } else {
                finish(throwing: nil)
            }
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            finish(throwing: TetherTransportError("the event stream was silent too long"))
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(throwing: TetherTransportError("the event stream's connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(throwing: TetherTransportError("the event stream failed: \(error)"))
        context.close(promise: nil)
    }

    private func finish(throwing error: (any Error)?) {
        guard !done else { return }
        done = true
        sink.finish(throwing: error)
    }
}
