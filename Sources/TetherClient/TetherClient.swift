import Logging
import TetherProtocol

/// A client of Tether's client plane (the Swift SDK): it connects with a client token, keeps the session
/// alive with heartbeats, measures the connection, and comes back by itself with the latest resume token
/// after a loss, within the grace window.
///
/// ```swift
/// let client = TetherClient(token: created.clientToken, endpoint: .init(url: created.connect.websocket)!)
/// Task { for await state in client.states { print(state) } }
/// let session = try await client.connect()
/// try await client.suspend(expected: .seconds(60), reason: .background)
/// await client.close()   // bye: the session ends `left`, the concurrency is free at once
/// ```
///
/// Reconnect rules are ``ReconnectPlanner``'s. The client lives until it ends (``close()``, or a terminal
/// kick); ``states`` streams each state change in order and finishes with `.ended`.
public actor TetherClient {
    /// Every state change, in order, from `.connecting` to `.ended` (then the stream finishes). One consumer.
    public nonisolated let states: AsyncStream<TetherClientState>
    private let stateSink: AsyncStream<TetherClientState>.Continuation

    /// The current state.
    public private(set) var state: TetherClientState = .connecting
    /// The session as the last welcome described it.
    public private(set) var session: SessionInfo?
    /// The resume token of the last welcome (single use; the client reconnects with it).
    public private(set) var resumeToken: String?
    /// Round trip, jitter and loss measured from this client's pings.
    public var stats: ConnectionStats { meter.stats }

    /// The node this client connects to now (``EndpointRoster``: CreateSession's, then where `moved` sent it,
    /// or the next of a welcome's `alternates` when it could not be reached).
    public var endpoint: TetherEndpoint { roster.current }
    /// Every node this client would try, the one in use first after a welcome: that node, then the welcome's
    /// `alternates`.
    public var endpoints: [TetherEndpoint] { roster.endpoints }

    private let token: String
    private var roster: EndpointRoster
    private let configuration: TetherClientConfiguration
    private var planner: ReconnectPlanner
    private var meter = HeartbeatMeter()
    private var link: Link?
    private var welcomed = false
    private var suspension: Duration?
    private var closing = false
    private var silenced = false
    /// When the last heartbeat was due under a ``HeartbeatDisturbance`` (its `pingEvery`).
    private var lastDisturbedPing: Duration?
    private var runTask: Task<Void, Never>?
    private var waiters: [Waiter] = []

    private struct Waiter {
        var done: @Sendable (TetherClientState) -> Bool
        var continuation: CheckedContinuation<TetherClientState, Never>
    }

    /// Creates a client; nothing happens until ``start()`` or ``connect()``.
    /// - Parameters:
    ///   - token: CreateSession's `clientToken`.
    ///   - endpoint: one of CreateSession's `connect` URLs (`websocket` or `tcp`).
    ///   - configuration: timing, backoff, clock, randomness.
    public init(token: String, endpoint: TetherEndpoint, configuration: TetherClientConfiguration = .init()) {
        self.token = token
        self.roster = EndpointRoster(endpoint)
        self.configuration = configuration
        self.planner = ReconnectPlanner(backoff: configuration.backoff, grace: configuration.reconnectGrace)
        (states, stateSink) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    // MARK: - Public operations

    /// Starts connecting (once); returns at once.
    public func start() {
        guard runTask == nil else { return }
        stateSink.yield(.connecting)
        runTask = Task { await self.run() }
    }

    /// Starts, then waits for the first welcome.
    /// - Returns: the session.
    /// - Throws: ``TetherClientError/ended(_:)`` when the client ended instead.
    @discardableResult
    public func connect() async throws(TetherClientError) -> SessionInfo {
        start()
        let reached = await wait { if case .connected = $0 { true } else if case .ended = $0 { true } else { false } }
        switch reached {
        case .connected(let info): return info
        case .ended(let reason): throw .ended(reason)
        default: throw .notConnected
        }
    }

    /// Waits until the client has ended; returns why.
    public func ended() async -> TetherClientEndReason {
        if case .ended(let reason) = await wait({ if case .ended = $0 { true } else { false } }) { return reason }
        return .left
    }

    /// Declares a suspension (the app goes to the background): the server holds the session for
    /// `min(expected, maxSuspendMs)` without heartbeats, and this client stops pinging until
    /// ``endSuspension()`` or a reconnect.
    public func suspend(expected: Duration, reason: SuspendReason = .background) async throws(TetherClientError) {
        guard let link, welcomed, case .connected = state else { throw .notConnected }
        // Set before the send: a heartbeat tick running while this call awaits must not ping (a ping would end
        // the suspension on the server).
        suspension = expected
        emit(.suspended)
        do {
            try await link.send(.suspend(expectedMs: max(0, expected.milliseconds), reason: reason.rawValue))
        } catch {
            throw .notConnected
        }
    }

    /// Ends a declared suspension: a ping at once, heartbeats again.
    public func endSuspension() async throws(TetherClientError) {
        guard suspension != nil, let link, welcomed, let session else { throw .notConnected }
        suspension = nil
        emit(.connected(session))
        let seq = meter.sent(at: configuration.now())
        do { try await link.send(.ping(seq: seq, t: configuration.now().milliseconds)) } catch { throw .notConnected }
    }

    /// Drops the current connection at once, without `bye`, as a network loss would: the client reconnects by
    /// its rules with the resume token. For an app that knows its network changed (and for tests).
    public func dropConnection() {
        link?.close()
    }

    /// Simulates a hung client: from now on the current connection sends nothing (no ping, no automatic
    /// pong) yet stays open, so the server has to notice by its heartbeat timeout. For load simulators and
    /// tests, not for apps. Returns the Unix time in milliseconds of the last bytes this connection sent, or
    /// `nil` when not connected.
    @_spi(Simulation)
    public func goSilent() -> Double? {
        guard let link, welcomed else { return nil }
        silenced = true
        link.tap.silence()
        let last = link.tap.lastWrite
        return last > 0 ? Double(last) / 1_000 : nil
    }

    /// Leaves: sends `bye` (the session ends `left` and its concurrency is free at once) and ends the client.
    /// When not connected at that moment, the client just stops; the server reclaims the session after its
    /// grace window.
    public func close() async {
        if case .ended = state { return }
        closing = true
        if let link, welcomed {
            try? await link.send(.bye)
            let timeout = configuration.byeTimeout
            let sleep = configuration.sleep
            Task {
                try? await sleep(timeout)
                link.close()
            }
        } else if let link {
            link.close()
        } else if let runTask {
            runTask.cancel()
        } else {
            finish(.left)
        }
        _ = await ended()
    }

    // MARK: - The loop

    private func run() async {
        var credential = ClientMessage.Credential.token(token)
        while true {
            var loss = await runConnection(credential)
            if closing { return finish(.left) }
            configuration.logger.debug("tether client: connection lost", metadata: ["loss": "\(loss)"])
            switch loss {
            case .moved(let connect):
                if !roster.moved(to: connect) { loss = .transport("moved to a node without this transport") }
            case .unreachable:
                roster.unreachable()
            default:
                break
            }
            let decision = planner.lost(
                loss, welcomed: welcomed, now: configuration.now(), unit: configuration.random())
            switch decision {
            case .end(let reason):
                return finish(reason)
            case .follow:
                if let resumeToken { credential = .resumeToken(resumeToken) }
            case .reconnect(let attempt, let delay):
                emit(.reconnecting(attempt: attempt, delay: delay))
                try? await configuration.sleep(delay)
                if closing || Task.isCancelled { return finish(.left) }
                if let resumeToken { credential = .resumeToken(resumeToken) }
            }
        }
    }

    /// One connection, from open to loss.
    private func runConnection(_ credential: ClientMessage.Credential) async -> LinkLoss {
        welcomed = false
        silenced = false
        let (events, sink) = AsyncStream<LinkEvent>.makeStream(bufferingPolicy: .unbounded)
        let link: Link
        do {
            link = try await Link.open(
                roster.current, group: configuration.eventLoopGroup, connectTimeout: configuration.connectTimeout,
                localAddress: configuration.localAddress, tls: configuration.tls, events: sink)
        } catch {
            return .unreachable("\(error)")
        }
        if closing {
            link.close()
            return .transport("closed by the client")
        }
        self.link = link
        let sleep = configuration.sleep
        let helloTimeout = configuration.helloTimeout
        let helloTimer = Task {
            do {
                try await sleep(helloTimeout)
                sink.yield(.helloTimeout)
            } catch {}
        }
        var ticker: Task<Void, Never>?
        defer {
            helloTimer.cancel()
            ticker?.cancel()
            link.close()
            self.link = nil
            meter.connectionEnded()
        }
        try? await link.send(.hello(credential))
        var lastInbound = configuration.now()
        var kick: (reason: String, retryAfterMs: Int64?, connect: ServerMessage.Connect?)?
        for await event in events {
            switch event {
            case .message(let message):
                lastInbound = configuration.now()
                configuration.logger.trace("tether client: message", metadata: ["message": "\(message)"])
                switch message {
                case .welcome(let welcome):
                    helloTimer.cancel()
                    welcomed(welcome)
                    ticker?.cancel()
                    ticker = Self.ticker(every: .milliseconds(max(welcome.heartbeat.intervalMs, 10)), sleep, sink)
                    if closing { try? await link.send(.bye) }
                case .pong(let seq, _, _):
                    meter.answered(seq: seq, at: configuration.now())
                case .ping:
                    break
                case .kick(let reason, let retryAfterMs, let connect):
                    kick = (reason, retryAfterMs, connect)
                case .queued, .offered:
                    break  // a session's client never waits in a queue
                }
            case .activity:
                lastInbound = configuration.now()
            case .tick:
                if let lost = await heartbeat(link, lastInbound: lastInbound) { return lost }
            case .helloTimeout:
                if !welcomed { return .unreachable("no welcome within \(helloTimeout)") }
            case .closed(let code, let reason):
                if let kick, kick.reason == "moved", let connect = kick.connect { return .moved(connect) }
                if let kick { return .kicked(reason: kick.reason, retryAfterMs: kick.retryAfterMs) }
                if let code { return .closed(code: code, reason: reason) }
                return .transport(reason)
            }
        }
        return .transport("cancelled")
    }

    /// A welcome: the session, the new resume token, a fresh reconnect window.
    private func welcomed(_ welcome: ServerMessage.Welcome) {
        welcomed = true
        suspension = nil
        resumeToken = welcome.resumeToken
        roster.welcomed(alternates: welcome.alternates ?? [])
        let info = SessionInfo(welcome)
        session = info
        planner.welcomed(grace: info.reconnectGrace)
        emit(.connected(info))
    }

    /// One heartbeat tick: the loss check (no inbound frame for the timeout, longer while suspended), lost
    /// pings, then a ping unless suspended. Returns the loss when the connection is declared dead.
    private func heartbeat(_ link: Link, lastInbound: Duration) async -> LinkLoss? {
        guard welcomed, let session else { return nil }
        let now = configuration.now()
        let allowed = max(session.heartbeatTimeout, suspension ?? .zero)
        if now - lastInbound > allowed {
            return .unreachable("no inbound frame for \(allowed)")
        }
        meter.expire(sentBefore: now - session.heartbeatTimeout)
        guard suspension == nil, !silenced else { return nil }
        if let disturbance = configuration.disturbance {
            if let every = disturbance.pingEvery, let last = lastDisturbedPing, now - last < every { return nil }
            lastDisturbedPing = now
            let seq = meter.sent(at: now)
            if disturbance.dropRate > 0, configuration.random() < disturbance.dropRate { return nil }
            let delay = disturbance.jitter * configuration.random()
            let sleep = configuration.sleep
            Task {
                try? await sleep(delay)
                try? await link.send(.ping(seq: seq, t: now.milliseconds))
            }
            return nil
        }
        let seq = meter.sent(at: now)
        try? await link.send(.ping(seq: seq, t: now.milliseconds))
        return nil
    }

    private static func ticker(
        every interval: Duration, _ sleep: @escaping @Sendable (Duration) async throws -> Void,
        _ sink: AsyncStream<LinkEvent>.Continuation
    ) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                sink.yield(.tick)
                do { try await sleep(interval) } catch { return }
            }
        }
    }

    // MARK: - States

    private func emit(_ new: TetherClientState) {
        if case .ended = state { return }
        state = new
        configuration.logger.debug("tether client: \(new)")
        stateSink.yield(new)
        let ready = waiters.filter { $0.done(new) }
        waiters.removeAll { $0.done(new) }
        for waiter in ready { waiter.continuation.resume(returning: new) }
    }

    private func finish(_ reason: TetherClientEndReason) {
        emit(.ended(reason))
        stateSink.finish()
    }

    private func wait(_ done: @escaping @Sendable (TetherClientState) -> Bool) async -> TetherClientState {
        if done(state) { return state }
        return await withCheckedContinuation { waiters.append(Waiter(done: done, continuation: $0)) }
    }
}

/// Why an operation of ``TetherClient`` failed.
public enum TetherClientError: Error, Sendable, Hashable {
    /// The client ended (before it connected).
    case ended(TetherClientEndReason)
    /// The operation needs a welcomed connection and there is none right now.
    case notConnected
    /// The session has no `ws://` or `tcp://` URL for the transport asked (`wss://` is not supported).
    case unsupportedEndpoint(String)
}
