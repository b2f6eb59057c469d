import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import TetherClient

/// `TetherEventStream.follow`: a 5xx answer (a cluster node between owners) is retried like a dropped
/// connection, on the next of its URLs; a 4xx ends the stream with the API's error.
@Suite struct EventStreamRetryTests {
    /// An HTTP server that answers each request with the next of `answers` (status, content type, body), then
    /// keeps the connection of a 200 open; the request paths it saw.
    final class FakeServer: Sendable {
        let channel: any Channel
        let seen = Lines()

        init(answers: [(HTTPResponseStatus, String, String)]) async throws {
            let queue = Answers(answers)
            let seen = seen
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(
                            Answerer(next: { queue.next() }, seen: { seen.add($0) }))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        var url: URL { URL(string: "http://127.0.0.1:\(channel.localAddress?.port ?? 0)")! }
        func close() async { try? await channel.close() }
    }

    final class Answerer: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let next: @Sendable () -> (HTTPResponseStatus, String, String)
        let seen: @Sendable (String) -> Void

        init(
            next: @escaping @Sendable () -> (HTTPResponseStatus, String, String),
            seen: @escaping @Sendable (String) -> Void
        ) {
            self.next = next
            self.seen = seen
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(let head) = unwrapInboundIn(data) else { return }
            seen(head.uri)
            let (status, type, body) = next()
            var headers = HTTPHeaders([("Content-Type", type)])
            if status != .ok { headers.add(name: "Content-Length", value: "\(body.utf8.count)") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            if status == .ok {
                context.flush()  // a live stream: stays open
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }

    static let event = "id: 7\ndata: {\"cursor\":7}\n\n"
    static let unavailable = #"{"error":{"code":"InternalError.Store","message":"no node owns the cluster now"}}"#

    @Test func a503IsRetriedOnTheNextURLAndTheStreamGoesOn() async throws {
        let between = try await FakeServer(answers: [(.serviceUnavailable, "application/json", Self.unavailable)])
        let serving = try await FakeServer(answers: [(.ok, "text/event-stream", Self.event)])
        defer {
            Task {
                await between.close()
                await serving.close()
            }
        }
        var feed = TetherEventStream(url: between.url, apiKey: "k")
        feed.alternates = [serving.url]
        feed.backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(5))
        let retries = Lines()
        var iterator = feed.follow(after: 0) { error, _ in retries.add("\(error)") }
            .makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first?.cursor == 7)
        #expect(retries.all.count == 1)
        #expect(retries.all.first?.contains("InternalError.Store") == true)
        #expect(between.seen.all.count == 1 && serving.seen.all.count == 1)
    }

    @Test func a4xxEndsTheStreamWithTheAPIError() async throws {
        let server = try await FakeServer(answers: [
            (.unauthorized, "application/json", #"{"error":{"code":"AuthFailure","message":"bad key"}}"#)
        ])
        defer { Task { await server.close() } }
        var feed = TetherEventStream(url: server.url, apiKey: "wrong")
        feed.backoff = Backoff(base: .milliseconds(1), cap: .milliseconds(5))
        var iterator = feed.follow(after: 0).makeAsyncIterator()
        await #expect(throws: TetherAPIError.self) { _ = try await iterator.next() }
        #expect(server.seen.all.count == 1)
    }
}

/// Lines recorded from several threads.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// A fake server's answers, in order (then 503s).
final class Answers: Sendable {
    private let queue: Mutex<[(HTTPResponseStatus, String, String)]>
    init(_ answers: [(HTTPResponseStatus, String, String)]) { queue = Mutex(answers) }
    func next() -> (HTTPResponseStatus, String, String) {
        queue.withLock { $0.isEmpty ? (.serviceUnavailable, "text/plain", "") : $0.removeFirst() }
    }
}
