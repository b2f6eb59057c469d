import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One load process of `tether bench` (`tether bench-worker --config <json>`, hidden). It creates its
/// sessions through the backend API, connects its clients from its own source address, prints `ready`,
/// waits for `start <unix ms>` on stdin, plays its role, writes its ``WorkerResult`` and prints `done`.
/// `stop` on stdin ends roles that run until told.
public enum BenchWorkerRunner {
    /// Runs the worker described by `config` (a ``WorkerConfig`` as JSON).
    public static func run(config: String) async throws {
        let settings = try JSONDecoder().decode(WorkerConfig.self, from: Data(config.utf8))
        if settings.nice > 0 { _ = nice(settings.nice) }
        let worker = try LoadWorker(config: settings)
        do {
            try await worker.run()
        } catch {
            WorkerIO.say("error \(error)")
            await worker.abandon()
            throw error
        }
    }
}

/// The worker's line protocol with `tether bench`: lines on stdout, commands on stdin.
enum WorkerIO {
    /// Prints one line and flushes.
    static func say(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(1, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// The lines of stdin, read on a thread of their own.
    static func commands() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                var pending: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 1024)
                while true {
                    let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, 1024) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    pending += chunk[0..<n]
                    while let newline = pending.firstIndex(of: 10) {
                        continuation.yield(String(decoding: pending[..<newline], as: UTF8.self))
                        pending.removeSubrange(...newline)
                    }
                }
                continuation.finish()
            }
            thread.start()
        }
    }
}

/// One load process: its clients, its role, its result. Confined to its single event loop (one thread),
/// except ``run()``, which drives the phases from a task and hops onto the loop for every step; stdin
/// commands hop there too.
final class LoadWorker: LoadClientDelegate, @unchecked Sendable {
    let config: WorkerConfig
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop: any EventLoop
    var clients: [LoadClient] = []
    var readiness: [Int: EventLoopPromise<Bool>] = [:]
    var result: WorkerResult
    /// Completed when the role is over.
    let finished: EventLoopPromise<Void>
    var windowStartCPU = CPUTime.zero
    var latencies: [Double] = []
    var stopped = false
    var started = false
    var hammer = HammerState()
    var release = ReleaseState()
    var api = APIState()
    var storm = StormState()
    /// The TLS context of every connection (`--tls`), nil for plain ones.
    let tls: NIOSSLContext?

    init(config: WorkerConfig) throws {
        self.config = config
        self.tls = try config.caFile.map(BenchTLS.clientContext(caFile:))
        self.loop = group.next()
        self.result = WorkerResult(role: config.role, welcomed: 0, failed: 0)
        self.finished = loop.makePromise(of: Void.self)
    }

    func run() async throws {
        if config.role == .queued {
            try await connectAll(try await createTickets())
        } else if config.role == .storm && config.transport == "http" {
            try await connectHTTP(try await createSessions())
        } else if config.role != .api {
            let credentials = try await createSessions()
            try await connectAll(credentials)
            if config.role == .release { try await openEventReader() }
        }
        let (welcomed, failed) = try await loop.submit { (self.result.welcomed, self.result.failed) }.get()
        WorkerIO.say("ready \(welcomed) \(failed)")
        let commands = Task { [self] in
            for await line in WorkerIO.commands() {
                if line.hasPrefix("start "), let ms = Double(line.dropFirst(6)) {
                    loop.execute { self.start(at: ms) }
                } else if line == "stop" {
                    loop.execute { self.finish() }
                }
            }
            loop.execute { self.finish() }  // stdin closed: the coordinator is gone
        }
        try await finished.futureResult.get()
        commands.cancel()
        let result = try await loop.submit { () -> WorkerResult in
            var r = self.result
            r.totalCPU = BenchProc.selfCPU()
            if let summary = LatencySummary(self.latencies) { r.latencyMs = summary }
            for client in self.clients { client.close() }
            return r
        }.get()
        let encoder = JSONEncoder()
        try encoder.encode(result).write(to: URL(fileURLWithPath: config.resultPath))
        WorkerIO.say("done")
        try? await Task.sleep(for: .milliseconds(100))
        try await group.shutdownGracefully()
    }

    /// Completes `finished` with an error (after a failure), so nothing waits for it.
    func abandon() async {
        try? await loop.submit {
            if !self.stopped {
                self.stopped = true
                self.finished.fail(BenchError("abandoned"))
            }
        }.get()
    }

    /// Ends the role (once): the window's CPU is taken, `finished` completes.
    func finish() {
        guard !stopped else { return }
        stopped = true
        result.windowCPU = BenchProc.selfCPU() - windowStartCPU
        for client in clients {
            client.repeated?.cancel()
            client.timer?.cancel()
        }
        collectClients()
        if config.role == .storm {
            stopHTTP()
            result.stormNotBack = storm.lost.count
            result.stormGaveUp = storm.ended
        }
        if config.role == .queued {
            result.pushes = clients.reduce(0) { $0 + $1.pushes }
            result.pushedClients = clients.filter { $0.pushes > 0 }.count
            let gap = clients.map(\.minPushGapMs).min() ?? .infinity
            result.minPushGapMs = gap.isFinite ? gap : nil
        }
        finished.succeed(())
    }

    // MARK: - Setup

    /// Applies and creates one session per user through the backend API; returns (sessionId, token) by index.
    private func createSessions() async throws -> [(String, String)] {
        try await perUser { conn, config, user in
            let body = #"{"userId":"\#(user)"}"#
            let applied = try await conn.request(
                "POST", "/v1/projects/\(config.projectId)/concurrency/apply", body: body
            ).get()
            guard applied.status == 200 else { throw BenchError("apply: \(applied.status) \(applied.text)") }
            let created = try await conn.request("POST", "/v1/projects/\(config.projectId)/sessions", body: body).get()
            guard created.status == 201, let id = JSONScan.string("sessionId", in: created.body),
                let token = JSONScan.string("clientToken", in: created.body)
            else { throw BenchError("create session: \(created.status) \(created.text)") }
            return (id, token)
        }
    }

    /// Applies with `queue: true` for each user through the backend API (the pool is full); returns (ticketId,
    /// queueToken) by index.
    private func createTickets() async throws -> [(String, String)] {
        try await perUser { conn, config, user in
            let queued = try await conn.request(
                "POST", "/v1/projects/\(config.projectId)/concurrency/apply",
                body: #"{"userId":"\#(user)","queue":true}"#
            ).get()
            guard queued.status == 202, let id = JSONScan.string("ticketId", in: queued.body),
                let token = JSONScan.string("queueToken", in: queued.body)
            else { throw BenchError("queued apply: \(queued.status) \(queued.text)") }
            return (id, token)
        }
    }

    /// Runs `make` for each of the worker's users over `setupConnections` backend API connections; returns
    /// what it made, by index.
    private func perUser(
        _ make: @escaping @Sendable (BenchHTTPConnection, WorkerConfig, String) async throws -> (String, String)
    ) async throws -> [(String, String)] {
        let lanes = max(1, min(config.setupConnections, config.count))
        let config = self.config
        let loop = self.loop
        let tls = self.tls
        var out = [(String, String)](repeating: ("", ""), count: config.count)
        try await withThrowingTaskGroup(of: [(Int, String, String)].self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    let conn = try await BenchHTTPConnection.connect(
                        on: loop, port: config.apiPort, apiKey: config.apiKey, sourceIP: config.sourceIP, tls: tls
                    ).get()
                    defer { conn.close() }
                    var made: [(Int, String, String)] = []
                    for i in stride(from: lane, to: config.count, by: lanes) {
                        let (id, token) = try await make(conn, config, "\(config.userPrefix)\(config.firstIndex + i)")
                        made.append((i, id, token))
                    }
                    return made
                }
            }
            for try await made in group {
                for (i, id, token) in made { out[i] = (id, token) }
            }
        }
        return out
    }

    /// Connects every client, at most `connectConcurrency` waiting for their welcome at a time.
    private func connectAll(_ credentials: [(String, String)]) async throws {
        try await loop.submit {
            let websocket = self.config.transport != "tcp"
            let port = websocket ? self.config.clientPort : self.config.tcpPort
            self.clients = credentials.enumerated().map { i, c in
                let client = LoadClient(
                    index: i, sessionId: c.0, token: c.1, websocket: websocket, port: port, delegate: self)
                // An `expire` client answers the server's pings until its last ping, like any healthy client
                // (one that answered none lost its session to 3 dropped heartbeats in a row under `liveness`'s loss).
                client.answersPings = true
                client.queueToken = self.config.role == .queued
                return client
            }
        }.get()
        try await inLanes(credentials.count) { i in _ = try await self.loop.flatSubmit { self.connect(i) }.get() }
    }

    /// Runs `body` for each index below `count`, at most `connectConcurrency` at a time.
    func inLanes(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let lanes = max(1, min(config.connectConcurrency, count))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    for i in stride(from: lane, to: count, by: lanes) { try await body(i) }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Connects client `i`; the future says whether it was welcomed (within 30 s).
    private func connect(_ i: Int) -> EventLoopFuture<Bool> {
        let client = clients[i]
        let promise = loop.makePromise(of: Bool.self)
        readiness[i] = promise
        let bound = NIOLoopBound(client, eventLoop: loop)
        open(client)
        let timeout = loop.scheduleTask(in: .seconds(30)) { [self] in
            if let p = readiness.removeValue(forKey: i) {
                result.failed += 1
                p.succeed(false)
                bound.value.close()
            }
        }
        return promise.futureResult.always { _ in timeout.cancel() }
    }

    /// Opens `client`'s connection (its handler says hello once it is up).
    func open(_ client: LoadClient) {
        let bound = NIOLoopBound(client, eventLoop: loop)
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(BenchAddress.bindAddressNoPort, value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
        if let address = try? SocketAddress(ipAddress: config.sourceIP, port: 0) {
            bootstrap = bootstrap.bind(to: address)
        }
        let tls = tls
        bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: tls, serverHostname: nil))
                }
                try channel.pipeline.syncOperations.addHandler(bound.value)
            }
        }
        .connect(to: BenchAddress.loopback(port: client.port))
        .whenFailure { _ in bound.value.failedToConnect() }
    }

    // MARK: - LoadClientDelegate

    func welcomed(_ client: LoadClient) {
        if let promise = readiness.removeValue(forKey: client.index) {
            result.welcomed += 1
            promise.succeed(true)
        }
        switch config.role {
        case .heartbeat, .expire, .release, .hammer: beginHeartbeat(client)
        case .storm:
            stormWelcomed(client)
            beginHeartbeat(client)
        case .idle, .api, .queued: break
        }
    }

    func pushed(_ client: LoadClient) {}

    func ponged(_ client: LoadClient, seq: UInt64, st: Int64) {
        switch config.role {
        case .expire:
            if client.mark > 0 && seq == client.mark { client.markSt = st }
        case .hammer:
            hammerPong(client)
        default:
            break
        }
    }

    func kicked(_ client: LoadClient) {
        result.kicks[client.kickReason ?? "?", default: 0] += 1
    }

    func closed(_ client: LoadClient) {
        if let promise = readiness.removeValue(forKey: client.index) {
            result.failed += 1
            promise.succeed(false)
        }
        if config.role == .expire && started && !stopped && clients.allSatisfy({ $0.phase == .closed }) { finish() }
        if config.role == .storm { stormClosed(client) }
    }

    /// Pings every interval from a random phase.
    func beginHeartbeat(_ client: LoadClient) {
        let interval = config.intervalMs
        let first = Int64.random(in: 0..<max(1, interval))
        let bound = NIOLoopBound(client, eventLoop: loop)
        let (dropRate, jitterMs, loop) = (config.dropRate, config.jitterMs, loop)
        client.repeated = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(first), delay: .milliseconds(interval)
        ) { _ in
            // `liveness` disturbances: a heartbeat lost on the way, or held up (the server's pings are still
            // answered at once).
            if dropRate > 0, Double.random(in: 0..<1) < dropRate { return }
            guard jitterMs > 0 else { return bound.value.sendPing() }
            loop.scheduleTask(in: .milliseconds(Int64.random(in: 0...jitterMs))) {
                // An `expire` client that has sent its last ping meanwhile stays silent.
                guard bound.value.mark == 0 else { return }
                bound.value.sendPing()
            }
        }
    }

    /// Schedules `body` at a wall-clock time (ms).
    @discardableResult
    func at(_ wallMs: Double, _ body: @escaping () -> Void) -> Scheduled<Void> {
        let delay = max(0, wallMs - BenchProc.wallMs())
        let bound = NIOLoopBound(body, eventLoop: loop)
        return loop.scheduleTask(in: .nanoseconds(Int64(delay * 1_000_000))) { bound.value() }
    }

    private func collectClients() {
        guard config.role != .hammer, config.role != .api, config.role != .release, config.role != .queued,
            config.role != .storm
        else {
            return
        }
        result.clients = clients.map { c in
            WorkerResult.Client(
                sessionId: c.sessionId, lastSendMs: c.mark > 0 ? c.lastPingWallMs : nil, lastPongSt: c.markSt,
                kickMs: c.kickMs, kickReason: c.kickReason, closedMs: c.closedMs)
        }
    }
}

/// A benchmark failure with a message.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
