import Foundation

/// A `tether serve` process started by the benchmark on a temporary data file and free ports.
final class BenchServer: Sendable {
    let child: BenchChildProcess
    /// The server's own process: the child itself, or, under `TETHER_BENCH_SERVER_PREFIX` (a profiler that
    /// runs it as its own child), the descendant running this executable. Its CPU and memory are measured and
    /// it gets the signals, so that a wrapper (heaptrack's script) sees its server end and finishes.
    let pid: Int32
    let apiPort: Int
    let clientPort: Int
    let tcpPort: Int
    let dataPath: String
    let apiKey: String
    /// When it was spawned (monotonic ns).
    let spawnedNs: UInt64

    private init(
        child: BenchChildProcess, pid: Int32? = nil, apiPort: Int, clientPort: Int, tcpPort: Int, dataPath: String,
        apiKey: String, spawnedNs: UInt64
    ) {
        self.child = child
        self.pid = pid ?? child.pid
        self.apiPort = apiPort
        self.clientPort = clientPort
        self.tcpPort = tcpPort
        self.dataPath = dataPath
        self.apiKey = apiKey
        self.spawnedNs = spawnedNs
    }

    /// Starts `tether serve` (this executable) and waits until it prints where it listens. Ports of 0 pick
    /// free ports (the TCP port gets a free port here, since 0 turns TCP off). `dataPath` is a SQLite file, or
    /// a `postgres://` URL (`--store`); `extraArguments` go to `serve` as they are.
    static func start(
        executable: String, directory: String, dataPath: String, apiKey: String, apiPort: Int = 0,
        clientPort: Int = 0, tcpPort: Int? = nil, environment: [String: String] = [:], waitForListening: Bool = true,
        extraArguments: [String] = []
    ) async throws -> BenchServer {
        let tcp = tcpPort ?? freePort()
        let stderrPath = "\(directory)/server-\(Int(BenchProc.wallMs()))-\(UInt16.random(in: 0...UInt16.max)).log"
        let spawned = BenchProc.monotonicNs()
        var command =
            [
                executable, "serve", "--host", "127.0.0.1", "--port", "\(apiPort)", "--client-port", "\(clientPort)",
                "--tcp-port", "\(tcp)", dataPath.hasPrefix("postgres") ? "--store" : "--data", dataPath, "--api-key",
                apiKey,
                "--log-level",
                ProcessInfo.processInfo.environment["TETHER_BENCH_SERVER_LOG_LEVEL"] ?? "warning",
                // The load holds ~30 k connections over a few loopback addresses; the cap is counted but never reached.
                "--max-connections-per-address", "1000000",
            ] + extraArguments
        // A profiler to run the server under, e.g. "heaptrack -o /tmp/ht" (docs/PERFORMANCE.md).
        let prefix = ProcessInfo.processInfo.environment["TETHER_BENCH_SERVER_PREFIX"] ?? ""
        if !prefix.isEmpty {
            command = prefix.split(separator: " ").map(String.init) + command
            if !command[0].hasPrefix("/") { command[0] = "/usr/bin/" + command[0] }
        }
        let child = try BenchChildProcess(
            executable: command[0], arguments: Array(command.dropFirst()), stderrPath: stderrPath)
        guard waitForListening else {
            return BenchServer(
                child: child, apiPort: apiPort, clientPort: clientPort, tcpPort: tcp, dataPath: dataPath,
                apiKey: apiKey, spawnedNs: spawned)
        }
        let planeLine = try await child.waitForLine(timeout: 60) { $0.contains("client plane listening on ") }
        let apiLine = try await child.waitForLine(timeout: 60) { $0.contains("backend API listening on ") }
        guard let api = lastPort(apiLine), let client = port(after: "://127.0.0.1:", in: planeLine) else {
            throw BenchError("cannot read the ports from: \(apiLine) / \(planeLine)")
        }
        // Listening, so the wrapped server exists by now.
        let pid =
            prefix.isEmpty
            ? child.pid
            : BenchProc.descendants(of: child.pid, parents: BenchProc.parentTable()).first {
                BenchProc.executable(of: $0) == URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
            }
        return BenchServer(
            child: child, pid: pid, apiPort: api, clientPort: client, tcpPort: tcp, dataPath: dataPath,
            apiKey: apiKey, spawnedNs: spawned)
    }

    /// The port at the end of a line (`…:PORT`).
    static func lastPort(_ line: String) -> Int? {
        line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The digits right after `prefix` in `line`.
    static func port(after prefix: String, in line: String) -> Int? {
        guard let range = line.range(of: prefix) else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// The server's CPU time so far.
    var cpu: CPUTime { BenchProc.cpu(of: pid) ?? .zero }

    /// The server's resident set size.
    var rss: Int64 { BenchProc.rss(of: pid) ?? 0 }

    /// SIGKILL, and waits until it is gone.
    func kill9() async {
        signal(SIGKILL)
        await child.waitForExit(timeout: 10)
    }

    /// SIGTERM, then SIGKILL if it has not stopped within 20 s.
    func stop() async {
        signal(SIGTERM)
        await child.waitForExit(timeout: 20)
    }

    /// Sends a signal to the server's own process (``pid``).
    func signal(_ signal: Int32) { kill(pid, signal) }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
