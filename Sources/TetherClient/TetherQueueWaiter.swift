import Foundation
import TetherProtocol

/// Waits live in a full pool's queue (API.md "Waiting queue"): connects to the client plane with the
/// `queueToken` of a queued ApplyConcurrent (202), and yields the ticket's place whenever the server tells it
/// and the offer when it comes. It heartbeats while it waits (the server answers, and pings it when quiet) and
/// reconnects with the same token after a drop, within the project's `queue.clientTimeoutMs`, so the ticket
/// keeps its place.
///
/// ```swift
/// for try await update in TetherQueueWaiter(queueToken: queued.queueToken, endpoint: endpoint).updates() {
///     switch update {
///     case .place(_, let position, let etaMs): show(position, etaMs)
///     case .offered: try await myBackend.createSession()   // then connect a TetherClient with its token
///     }
/// }
/// ```
///
/// The sequence ends when the offer was taken (the server closes the queue connection with `left`); it throws
/// ``TetherQueueWaiter/Left`` when the ticket left otherwise (cancelled, the offer lapsed, silence, replaced by
/// another connection with the token, a token that is no good).
public struct TetherQueueWaiter: Sendable {
    /// What the server says of the ticket.
    public enum Update: Sendable, Hashable {
        /// The ticket's place: 1 is next; `etaMs` the server's estimate of the wait.
        case place(ticketId: String, position: Int, etaMs: Int64)
        /// A concurrency is held for this user until `reservedUntil` (Unix ms): its backend creates the session.
        case offered(concurrencyId: String, reservedUntil: Int64)
    }

    /// The ticket left the queue without the offer being taken; `reason` is the server's kick reason
    /// (`destroyed`: cancelled or project deleted; `expired`: the offer lapsed or the client was silent;
    /// `replaced`; `badToken`).
    public struct Left: Error, Sendable, Hashable, CustomStringConvertible {
        /// The kick reason.
        public var reason: String
        /// Creates the error.
        public init(reason: String) { self.reason = reason }
        public var description: String { "the queue ticket left: \(reason)" }
    }

    /// The queue token of the 202.
    public let queueToken: String
    /// Where to connect (the 202's `connect`, or CreateSession's addresses of the same node).
    public let endpoint: TetherEndpoint
    /// Timeouts, backoff, event loops.
    public let configuration: TetherClientConfiguration
    /// How often the waiter pings the server.
    public let pingEvery: Duration

    /// Creates a waiter.
    public init(
        queueToken: String, endpoint: TetherEndpoint, configuration: TetherClientConfiguration = .init(),
        pingEvery: Duration = .seconds(5)
    ) {
        self.queueToken = queueToken
        self.endpoint = endpoint
        self.configuration = configuration
        self.pingEvery = pingEvery
    }

    /// The ticket's places and its offer, until the offer is taken; throws ``Left`` otherwise.
    public func updates() -> AsyncThrowingStream<Update, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Update.self)
        let task = Task { await run(continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// What ended one connection.
    private enum Outcome {
        case taken
        case left(String)
        case retry(after: Duration?, endpoint: TetherEndpoint?)
    }

    private func run(_ continuation: AsyncThrowingStream<Update, any Error>.Continuation) async {
        var attempt = 0
        var target = endpoint
        while !Task.isCancelled {
            switch await connection(to: target, continuation) {
            case .taken:
                continuation.finish()
                return
            case .left(let reason):
                continuation.finish(throwing: Left(reason: reason))
                return
            case .retry(let after, let moved):
                if let moved {
                    target = moved
                    attempt = 0
                    continue
                }
                attempt += 1
                let delay = after ?? configuration.backoff.delay(attempt: attempt, unit: configuration.random())
                try? await configuration.sleep(delay)
            }
        }
        continuation.finish()
    }

    /// One connection: hello with the token, updates until a kick or a close.
    private func connection(
        to target: TetherEndpoint, _ continuation: AsyncThrowingStream<Update, any Error>.Continuation
    ) async -> Outcome {
        let (events, sink) = AsyncStream.makeStream(of: LinkEvent.self)
        let link: Link
        do {
            link = try await Link.open(
                target, group: configuration.eventLoopGroup, connectTimeout: configuration.connectTimeout,
                localAddress: configuration.localAddress, tls: configuration.tls, events: sink)
        } catch {
            return .retry(after: nil, endpoint: nil)
        }
        let pinger = Task {
            while !Task.isCancelled {
                try? await configuration.sleep(pingEvery)
                sink.yield(.tick)
            }
        }
        defer {
            pinger.cancel()
            link.close()
        }
        try? await link.send(.hello(.queueToken(queueToken)))
        var seq: UInt64 = 0
        var offered = false
        for await event in events {
            switch event {
            case .message(.queued(let ticketId, let position, let etaMs)):
                continuation.yield(.place(ticketId: ticketId, position: position, etaMs: etaMs))
            case .message(.offered(let concurrencyId, let reservedUntil)):
                offered = true
                continuation.yield(.offered(concurrencyId: concurrencyId, reservedUntil: reservedUntil))
            case .message(.kick(let reason, let retryAfterMs, let connect)):
                switch reason {
                case "left" where offered: return .taken
                case "shutdown", "busy":
                    return .retry(after: retryAfterMs.map { .milliseconds($0) }, endpoint: nil)
                case "moved":
                    return .retry(after: nil, endpoint: connect.flatMap { target.sameTransport(in: $0) })
                default: return .left(reason)
                }
            case .message, .activity, .helloTimeout:
                break
            case .tick:
                seq &+= 1
                try? await link.send(.ping(seq: seq, t: Int64(Date().timeIntervalSince1970 * 1_000)))
            case .closed:
                return .retry(after: nil, endpoint: nil)
            }
        }
        return .retry(after: nil, endpoint: nil)
    }
}
