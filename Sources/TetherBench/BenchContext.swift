import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import TetherClient

/// A load process as `tether bench` sees it.
struct BenchWorkerHandle: Sendable {
    let child: BenchChildProcess
    let config: WorkerConfig
}

/// What every scenario needs: the executable, a temporary directory, source addresses for the load
/// processes, servers, load processes, and a backend API client.
final class BenchContext {
    let executable = BenchProc.executablePath()
    let directory: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// The largest number of clients one load process holds (it must stay under the 20 k fd limit).
    var clientsPerWorker = 5_000
    private var nextSource = 2
    private var serverCount = 0

    init() throws {
        directory = NSTemporaryDirectory() + "tether-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// A PostgreSQL server this run started (scripts/postgres.sh), stopped at the end.
    private var ownPostgres: String?

    /// The PostgreSQL URL of the `cluster` scenario: `given`, else `TETHER_BENCH_POSTGRES_URL`, else a server
    /// started here with scripts/postgres.sh (from the working directory: the repository), once per run.
    func postgres(_ given: String?) throws -> String {
        if let given, !given.isEmpty { return given }
        if let url = ProcessInfo.processInfo.environment["TETHER_BENCH_POSTGRES_URL"], !url.isEmpty { return url }
        guard FileManager.default.fileExists(atPath: "scripts/postgres.sh") else {
            throw BenchError(
                "cluster needs PostgreSQL: --postgres URL, TETHER_BENCH_POSTGRES_URL, or run from the repository")
        }
        let folder = "\(directory)/postgres"
        let url = try BenchProc.script("bash scripts/postgres.sh start '\(folder)'")
        ownPostgres = folder
        return url
    }

    /// The databases this run made (``BenchDatabase``), dropped at its end.
    private var databases: [String] = []

    /// A new empty database on the `cluster` scenario's PostgreSQL server (``postgres(_:)``), dropped at the end
    /// of the run.
    func clusterDatabase(_ given: String?) async throws -> String {
        let url = try await BenchDatabase.create(on: try postgres(given))
        databases.append(url)
        return url
    }

    /// Removes the temporary directory and stops the client threads.
    func cleanUp(keepFiles: Bool = false) async {
        for url in databases { await BenchDatabase.drop(url) }
        if let ownPostgres { _ = try? BenchProc.script("bash scripts/postgres.sh stop '\(ownPostgres)'") }
        if !keepFiles { try? FileManager.default.removeItem(atPath: directory) }
        try? await group.shutdownGracefully()
    }

    /// A fresh source address (127.0.0.2 upward), so each load process has its own 28 k ephemeral ports.
    func sourceIP() -> String {
        defer { nextSource = nextSource >= 254 ? 2 : nextSource + 1 }
        return "127.0.0.\(nextSource)"
    }

    /// With `--tls`: the certificate the servers serve, and the client context that trusts it.
    private(set) var tls: BenchTLS?
    private(set) var clientTLS: NIOSSLContext?

    /// Serves TLS from now on (`--tls`).
    func useTLS() throws {
        let made = try BenchTLS.make(in: directory)
        tls = made
        clientTLS = try BenchTLS.clientContext(caFile: made.certificatePath)
    }

    /// The `serve` arguments of TLS (none without `--tls`).
    var tlsArguments: [String] { tls?.serveArguments ?? [] }

    /// The backend API's URL on `port` (`https` with `--tls`).
    func apiURL(port: Int) -> URL { URL(string: "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)")! }

    /// An SDK backend client of the API on `port`, trusting the run's certificate with `--tls`.
    func backend(port: Int, apiKey: String) throws -> TetherBackend {
        TetherBackend(
            url: apiURL(port: port), apiKey: apiKey,
            tls: try tls.map { try TetherTLS.trusting(caFile: $0.certificatePath) })
    }

    /// The pid of the last server started (for attaching a profiler).
    var serverPID: Int32?

    /// Starts a server on a new data file.
    func startServer() async throws -> BenchServer {
        serverCount += 1
        let server = try await BenchServer.start(
            executable: executable, directory: directory, dataPath: "\(directory)/data-\(serverCount).sqlite",
            apiKey: "tk_bench_\(UInt64.random(in: 1...UInt64.max))", extraArguments: tlsArguments)
        serverPID = server.pid
        return server
    }

    /// A backend API connection to `server`.
    func api(_ server: BenchServer) async throws -> BenchHTTPConnection {
        try await BenchHTTPConnection.connect(
            on: group.next(), port: server.apiPort, apiKey: server.apiKey, tls: clientTLS
        ).get()
    }

    /// Creates a project.
    func createProject(
        _ server: BenchServer, id: String, capacity: Int, intervalMs: Int64, timeoutMs: Int64,
        reconnectGraceMs: Int64 = 90_000, extra: String = ""
    ) async throws {
        let conn = try await api(server)
        defer { conn.close() }
        let body =
            #"{"id":"\#(id)","capacity":\#(capacity),"heartbeat":{"intervalMs":\#(intervalMs),"timeoutMs":\#(timeoutMs)},"#
            + #""reconnectGraceMs":\#(reconnectGraceMs),"connectTimeoutMs":600000,"reservationTtlMs":600000\#(extra)}"#
        let reply = try await conn.request("POST", "/v1/projects", body: body).get()
        guard reply.status == 201 else { throw BenchError("create project: \(reply.status) \(reply.text)") }
    }

    /// Every event of a project, by paging `GET /v1/events`.
    func events(_ server: BenchServer, projectId: String) async throws -> [EventSummary] {
        let conn = try await api(server)
        defer { conn.close() }
        var all: [EventSummary] = []
        var after: UInt64 = 0
        while true {
            let reply = try await conn.request(
                "GET", "/v1/events?projectId=\(projectId)&after=\(after)&limit=1000"
            ).get()
            guard reply.status == 200 else { throw BenchError("events: \(reply.status) \(reply.text)") }
            let page = try JSONDecoder().decode(EventPage.self, from: Data(reply.body))
            all += page.events
            if page.events.isEmpty || page.nextCursor == after { return all }
            after = page.nextCursor
        }
    }

    /// `GET /v1/projects/{id}/concurrency` as numbers.
    func concurrency(_ server: BenchServer, projectId: String) async throws -> [String: Int] {
        let conn = try await api(server)
        defer { conn.close() }
        let reply = try await conn.request("GET", "/v1/projects/\(projectId)/concurrency").get()
        guard reply.status == 200 else { throw BenchError("concurrency: \(reply.status) \(reply.text)") }
        return (try? JSONDecoder().decode([String: Int].self, from: Data(reply.body))) ?? [:]
    }

    /// Spawns load processes for `total` clients (at most ``clientsPerWorker`` each) and waits until all
    /// are ready.
    func spawnWorkers(
        _ server: BenchServer, _ base: WorkerConfig, total: Int, perWorker: Int? = nil, readyTimeout: Double = 600
    ) async throws -> [BenchWorkerHandle] {
        let per = max(1, perWorker ?? clientsPerWorker)
        var handles: [BenchWorkerHandle] = []
        var first = base.firstIndex
        let end = base.firstIndex + total
        while first < end {
            var config = base
            config.firstIndex = first
            config.count = min(per, end - first)
            config.sourceIP = sourceIP()
            config.apiPort = server.apiPort
            config.clientPort = server.clientPort
            config.tcpPort = server.tcpPort
            config.apiKey = server.apiKey
            config.caFile = tls?.certificatePath
            let name = "worker-\(config.role.rawValue)-\(config.userPrefix)\(first)"
            config.resultPath = "\(directory)/\(name).json"
            let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
            let child = try BenchChildProcess(
                executable: executable, arguments: ["bench-worker", "--config", json],
                stderrPath: "\(directory)/\(name).log")
            handles.append(BenchWorkerHandle(child: child, config: config))
            first += config.count
        }
        for handle in handles {
            _ = try await handle.child.waitForLine(timeout: readyTimeout) { $0.hasPrefix("ready") }
        }
        BenchTable.progress("\(handles.count) load process(es) ready: \(total) \(base.role.rawValue) clients")
        return handles
    }

    /// Tells load processes to start at wall time `startMs`.
    func start(_ workers: [BenchWorkerHandle], at startMs: Double) {
        for w in workers { w.child.send("start \(Int64(startMs))") }
        BenchTable.progress("started (server pid \(serverPID.map(String.init) ?? "?"))")
    }

    /// The load processes' CPU time so far.
    func workersCPU(_ workers: [BenchWorkerHandle]) -> CPUTime {
        workers.reduce(.zero) { $0 + (BenchProc.cpu(of: $1.child.pid) ?? .zero) }
    }

    /// Tells load processes to stop.
    func stop(_ workers: [BenchWorkerHandle]) {
        for w in workers { w.child.send("stop") }
    }

    /// Waits for load processes to finish; returns their results.
    func results(_ workers: [BenchWorkerHandle], timeout: Double = 120) async throws -> [WorkerResult] {
        var out: [WorkerResult] = []
        for w in workers {
            _ = try await w.child.waitForLine(timeout: timeout) { $0 == "done" }
            let data = try Data(contentsOf: URL(fileURLWithPath: w.config.resultPath))
            out.append(try JSONDecoder().decode(WorkerResult.self, from: data))
            await w.child.waitForExit(timeout: 10)
        }
        return out
    }

    /// Kills load processes that are still running (after a failure).
    func kill(_ workers: [BenchWorkerHandle]) async {
        for w in workers where w.child.process.isRunning {
            w.child.signal(SIGKILL)
            await w.child.waitForExit(timeout: 5)
        }
    }

    /// A worker configuration with the common fields set; the rest is filled per process.
    func workerConfig(
        _ role: WorkerConfig.Role, projectId: String, userPrefix: String, transport: String, intervalMs: Int64,
        timeoutMs: Int64
    ) -> WorkerConfig {
        WorkerConfig(
            role: role, apiPort: 0, clientPort: 0, tcpPort: 0, apiKey: "", projectId: projectId, userPrefix: userPrefix,
            firstIndex: 0, count: 0, sourceIP: "", transport: transport, intervalMs: intervalMs, timeoutMs: timeoutMs,
            resultPath: "")
    }

    /// Sleeps until wall time `ms`.
    func sleep(until ms: Double) async {
        let delay = ms - BenchProc.wallMs()
        if delay > 0 { try? await Task.sleep(for: .milliseconds(Int64(delay))) }
    }
}
