import NIOCore
import TetherClient

/// The state of a `storm` worker: its clients come back after the server went away, by the SDKs' reconnect
/// rules: a WebSocket or TCP client by the Swift SDK's own ``ReconnectPlanner`` (``Backoff`` with full jitter,
/// never sooner than a kick's `retryAfterMs`, never past the session's grace window), an HTTP client as the
/// simulator's do (a failed heartbeat is retried after the backoff, but never later than the next interval,
/// and never sooner than a `503`'s `retryAfterMs`).
struct StormState {
    /// The reconnect plan of each WebSocket or TCP client that has lost its server, by client index.
    var planners: [Int: ReconnectPlanner] = [:]
    /// Failed HTTP heartbeats since the last one that succeeded, by client index.
    var attempts: [Int: Int] = [:]
    /// Clients that lost their server since `start` and are not back yet.
    var lost: Set<Int> = []
    /// WebSocket or TCP clients whose planner gave up (their grace window ran out).
    var ended = 0
    /// HTTP-heartbeat clients (transport `http`).
    var http: [HTTPStormClient] = []
    let backoff = Backoff()
}

/// One HTTP-heartbeat client of a `storm` worker: `POST /v1/heartbeat` with its client token every interval
/// on a keep-alive connection (NIOHTTP1's client codec, ``BenchHTTPConnection``). Confined to the worker's loop.
final class HTTPStormClient {
    let index: Int
    let sessionId: String
    let token: String
    var connection: BenchHTTPConnection?
    var seq: UInt64 = 0
    var inFlight = false
    /// Set once a heartbeat was refused for good (the session is over or taken): the client stops.
    var done = false
    var repeated: RepeatedTask?

    init(index: Int, sessionId: String, token: String) {
        self.index = index
        self.sessionId = sessionId
        self.token = token
    }
}

extension LoadWorker {
    // MARK: - WebSocket and TCP

    /// A `storm` client whose connection closed (or could not open) after `start`: it comes back with its
    /// resume token when the SDK's ``ReconnectPlanner`` says, or gives up when the planner does.
    func stormClosed(_ client: LoadClient) {
        guard started, !stopped, clients[client.index] === client else { return }
        let i = client.index
        storm.lost.insert(i)
        var planner =
            storm.planners[i] ?? ReconnectPlanner(backoff: storm.backoff, grace: .milliseconds(client.graceMs ?? 0))
        let loss: LinkLoss =
            if let reason = client.kickReason {
                .kicked(reason: reason, retryAfterMs: client.kickRetryAfterMs)
            } else {
                .transport("closed or refused")
            }
        let now = Duration.milliseconds(Int64(BenchProc.monotonicNs() / 1_000_000))
        let decision = planner.lost(loss, welcomed: client.welcomedOnce, now: now, unit: Double.random(in: 0..<1))
        storm.planners[i] = planner
        switch decision {
        case .reconnect(_, let delay):
            let bound = NIOLoopBound(self, eventLoop: loop)
            loop.scheduleTask(in: TimeAmount(delay)) { bound.value.reconnect(i) }
        case .follow:
            reconnect(i)
        case .end:
            storm.ended += 1  // the SDK would give up here: the session is lost
        }
    }

    /// A `storm` client's welcome: it is back if it had lost its server.
    func stormWelcomed(_ client: LoadClient) {
        storm.planners[client.index] = nil
        if started, storm.lost.remove(client.index) != nil { result.stormBack += 1 }
    }

    private func reconnect(_ i: Int) {
        guard !stopped else { return }
        let old = clients[i]
        let client = LoadClient(
            index: i, sessionId: old.sessionId, token: old.token, websocket: old.websocket, port: old.port,
            delegate: self, resumeToken: old.resumeToken)
        client.graceMs = old.graceMs
        clients[i] = client
        result.stormReconnects += 1
        open(client)
    }

    /// A backoff delay in whole milliseconds, drawn at random.
    static func milliseconds(_ backoff: Backoff, _ attempt: Int) -> Int64 {
        let delay = backoff.delay(attempt: attempt, unit: Double.random(in: 0..<1))
        return delay.components.seconds * 1_000 + delay.components.attoseconds / 1_000_000_000_000_000
    }

    // MARK: - HTTP heartbeats

    /// Connects every HTTP client and sends its first heartbeat (its welcome), at most `connectConcurrency` at
    /// a time.
    func connectHTTP(_ credentials: [(String, String)]) async throws {
        try await loop.submit {
            self.storm.http = credentials.enumerated().map { i, c in
                HTTPStormClient(index: i, sessionId: c.0, token: c.1)
            }
        }.get()
        try await inLanes(credentials.count) { i in
            let welcomed = try await self.loop.flatSubmit { self.firstHeartbeat(i) }.get()
            try await self.loop.submit {
                if welcomed { self.result.welcomed += 1 } else { self.result.failed += 1 }
            }.get()
        }
        try await loop.submit {
            for client in self.storm.http where client.connection != nil { self.beginHTTPHeartbeat(client) }
        }.get()
    }

    private func firstHeartbeat(_ i: Int) -> EventLoopFuture<Bool> {
        post(storm.http[i], timeout: .seconds(30)).map { $0.status == 200 }.recover { _ in false }
    }

    /// Sends the client's next ping, on its keep-alive connection or a new one if that one has closed.
    private func post(_ client: HTTPStormClient, timeout: TimeAmount) -> EventLoopFuture<HTTPReply> {
        let bound = NIOLoopBound(client, eventLoop: loop)
        let connected: EventLoopFuture<BenchHTTPConnection>
        if let connection = client.connection, connection.channel.isActive {
            connected = loop.makeSucceededFuture(connection)
        } else {
            client.connection = nil
            connected = BenchHTTPConnection.connect(
                on: loop, port: config.clientPort, apiKey: client.token, sourceIP: config.sourceIP, tls: tls)
        }
        client.seq += 1
        var ping = ByteBuffer()
        BenchWire.writePing(seq: client.seq, t: Int64(BenchProc.wallMs()), into: &ping)
        let body = String(buffer: ping)
        return connected.flatMap { connection in
            bound.value.connection = connection
            return connection.request("POST", "/v1/heartbeat", body: body, timeout: timeout)
        }
    }

    /// Heartbeats every interval from a random phase; a failed one is retried after the backoff.
    private func beginHTTPHeartbeat(_ client: HTTPStormClient) {
        let interval = config.intervalMs
        let first = Int64.random(in: 0..<max(1, interval))
        let bound = NIOLoopBound(client, eventLoop: loop)
        client.repeated = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(first), delay: .milliseconds(interval)
        ) { [self] _ in
            // A client coming back retries on its own schedule; an answer not back yet is not doubled.
            let client = bound.value
            guard !client.inFlight, storm.lost.contains(client.index) == false else { return }
            heartbeat(client)
        }
    }

    private func heartbeat(_ client: HTTPStormClient) {
        guard !stopped, !client.done, !client.inFlight else { return }
        client.inFlight = true
        let bound = NIOLoopBound(client, eventLoop: loop)
        // The SDK's request timeout: the larger of 2 s and the heartbeat timeout.
        post(client, timeout: .milliseconds(max(2_000, config.timeoutMs))).whenComplete { [self] outcome in
            let client = bound.value
            client.inFlight = false
            switch outcome {
            case .success(let reply) where reply.status == 200:
                storm.attempts[client.index] = 0
                if started, storm.lost.remove(client.index) != nil { result.stormBack += 1 }
            case .success(let reply) where reply.status >= 500:
                // Shutting down, or over the hello rate: come back when it says, or after the backoff.
                let retry = JSONScan.integer("retryAfterMs", in: reply.body)
                retryLater(client, notBefore: retry ?? 0)
            case .success(let reply):
                // Refused for good (ended, replaced, a bad token): counted as the kick it names.
                client.done = true
                client.repeated?.cancel()
                result.kicks[JSONScan.string("kick", in: reply.body) ?? "http\(reply.status)", default: 0] += 1
                storm.lost.remove(client.index)
            case .failure:
                client.connection?.close()
                client.connection = nil
                retryLater(client, notBefore: 0)
            }
        }
    }

    private func retryLater(_ client: HTTPStormClient, notBefore: Int64) {
        guard started, !stopped else { return }
        storm.lost.insert(client.index)
        let attempt = storm.attempts[client.index, default: 0] + 1
        storm.attempts[client.index] = attempt
        result.stormReconnects += 1
        let wait = max(notBefore, min(config.intervalMs, Self.milliseconds(storm.backoff, attempt)))
        let bound = NIOLoopBound(client, eventLoop: loop)
        at(BenchProc.wallMs() + Double(wait)) { [self] in heartbeat(bound.value) }
    }

    /// Ends the HTTP clients (at `finish`).
    func stopHTTP() {
        for client in storm.http {
            client.repeated?.cancel()
            client.connection?.close()
        }
    }
}
