import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real `tether serve` binary, started as a child process on a data file.
public final class ServeProcess: @unchecked Sendable {
    public let process: ChildProcess
    private let output = ChildProcess.OutputPipe()
    public private(set) var lines: [String] = []
    public private(set) var port = 0
    public private(set) var tcpPort = 0
    private var buffer = Data()

    /// The `tether` binary built next to the test bundle.
    public static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tether")
    }

    /// Starts it as ``init(dataPath:apiKey:tcpPort:apiPort:clientPort:extraArguments:environment:)`` does,
    /// waiting for it off the cooperative pool (``offPool(_:)``): what tests call.
    public static func start(
        dataPath: String, apiKey: String?, tcpPort: Int = 0, apiPort: Int = 0, clientPort: Int = 0,
        extraArguments: [String] = [], environment: [String: String] = [:]
    ) async throws -> ServeProcess {
        try await offPool {
            try ServeProcess(
                dataPath: dataPath, apiKey: apiKey, tcpPort: tcpPort, apiPort: apiPort, clientPort: clientPort,
                extraArguments: extraArguments, environment: environment)
        }
    }

    /// Starts `tether serve` on `dataPath` (a SQLite file, or a `postgres://` URL given as `--store`), with
    /// `extraArguments` and with `environment` added to this process's, and waits
    /// until it prints where it listens. Ports 0 pick free ones (fixed ports let a restart come back where
    /// its clients look for it).
    public init(
        dataPath: String, apiKey: String?, tcpPort: Int = 0, apiPort: Int = 0, clientPort: Int = 0,
        extraArguments: [String] = [], environment: [String: String] = [:]
    ) throws {
        var arguments = [
            "serve", "--host", "127.0.0.1", "--port", "\(apiPort)", "--client-port", "\(clientPort)", "--tcp-port",
            "\(tcpPort)", dataPath.hasPrefix("postgres://") ? "--store" : "--data", dataPath,
            "--log-level", ProcessInfo.processInfo.environment["TETHER_TEST_SERVE_LOG_LEVEL"] ?? "warning",
        ]
        if let apiKey { arguments += ["--api-key", apiKey] }
        arguments += extraArguments
        // TETHER_TEST_SERVE_STDERR=FILE keeps the servers' standard error, for a look at a failing test.
        // Opened to append: every server of the run writes to the same file, none over another's lines.
        var errors: FileHandle?
        if let path = ProcessInfo.processInfo.environment["TETHER_TEST_SERVE_STDERR"] {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            if fd >= 0 { errors = FileHandle(fileDescriptor: fd, closeOnDealloc: true) }
        }
        defer { try? errors?.close() }
        self.tcpPort = tcpPort  // a fixed port is known before the server says it (a cluster node binds it later)
        process = try ChildProcess(
            Self.binary, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            stdout: .descriptor(output.writeEnd), stderr: errors.map { .descriptor($0.fileDescriptor) } ?? .null)
        output.closeWriteEnd()
        let deadline = Date().addingTimeInterval(30)
        var outputEnded = false
        while port == 0 && Date() < deadline {
            guard readOutput(timeoutMs: 1_000) else {
                outputEnded = true
                break
            }
            for line in lines
            where line.contains("listening on http://127.0.0.1:") || line.contains("listening on https://127.0.0.1:") {
                port = Int(line.split(separator: ":").last ?? "") ?? 0
            }
            for line in lines where line.contains(" and tcp://127.0.0.1:") || line.contains(" and tls://127.0.0.1:") {
                self.tcpPort = Int(line.split(separator: ":").last ?? "") ?? 0
            }
        }
        guard port > 0 else {
            if outputEnded || !process.isRunning {
                process.waitUntilExit()
                throw ServeError.exited(lines + ["exit status \(process.terminationStatus)"])
            }
            process.terminate()
            throw ServeError.didNotStart(lines)
        }
    }

    /// Why a server did not start: it exited first (its output and exit status), or it ran without saying
    /// where it listens within 30 s.
    public enum ServeError: Error {
        case didNotStart([String])
        case exited([String])
    }

    /// Reads what the server printed so far into ``lines``, waiting at most `timeoutMs` for something;
    /// `false` at the end of its output.
    private func readOutput(timeoutMs: Int32) -> Bool {
        let fd = output.readEnd
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, timeoutMs)
        if ready == 0 || (ready < 0 && errno == EINTR) { return true }
        // read(2) retried on EINTR: FileHandle.availableData traps when a signal interrupts it.
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
        if n < 0 && errno == EINTR { return true }
        if n <= 0 { return false }
        buffer += chunk[0..<n]
        lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
        return true
    }

    /// The first printed line containing `text`, waiting up to 10 s for it (off the cooperative pool).
    public func waitForLine(containing text: String) async -> String? {
        (try? await offPool {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if let line = self.lines.first(where: { $0.contains(text) }) { return line }
                guard self.readOutput(timeoutMs: 200) else { break }
            }
            return self.lines.first { $0.contains(text) }
        }) ?? nil
    }

    /// A TCP port that was free a moment ago, below the kernel's ephemeral range and never handed out twice by
    /// this process. A test that restarts a server on its ports needs them free while the server is down: a port
    /// of the ephemeral range (what binding port 0 gives) can meanwhile become the local port of any outgoing
    /// connection of the test process (a full suite opens hundreds), and the restart's bind then fails
    /// (SDKRestartTests did, once, in a full run).
    public static func freePort() -> Int {
        let low = ephemeralLow()
        for _ in 0..<1_000 {
            let candidate = Int.random(in: 10_000..<max(10_001, low))
            guard handedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
            if canBind(candidate) { return candidate }
        }
        return boundByKernel()
    }

    private static let handedOut = Mutex<Set<Int>>([])

    /// The first port of the kernel's ephemeral range (Linux: `ip_local_port_range`), 32768 if unknown.
    private static func ephemeralLow() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
            let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first,
            let low = Int(first), low > 10_001
        else { return 32_768 }
        return low
    }

    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        } == 0
    }

    /// A port the kernel picks (of the ephemeral range): the fallback.
    private static func boundByKernel() -> Int {
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

    /// SIGKILL: no shutdown code runs. Returns once it has exited.
    public func kill9() async {
        kill(process.processIdentifier, SIGKILL)
        await process.exit()
    }

    /// SIGTERM, then waits for the exit status (without blocking a thread).
    public func terminate() async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        return await process.exitStatus()
    }

    /// SIGTERM without waiting: the end of a test (`defer { server.stop() }`). See ``ChildProcess/signal(_:)``.
    public func stop() { process.signal(SIGTERM) }

    /// One JSON request; returns the status and the parsed body.
    /// One API call through `URLSession.shared`; `timeout` (seconds) bounds it, so a poll that loses its request
    /// (the shared session's transfers have been seen to stall under a full test run's load) tries again.
    public func call(
        _ method: String, _ path: String, _ body: String? = nil, key: String, timeout: TimeInterval = 60
    ) async throws -> (Int, Any) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONSerialization.jsonObject(with: data)) ?? [:])
    }

    /// The body of a request as canonical JSON text, for comparisons.
    public func json(_ path: String, key: String) async throws -> String {
        let (_, body) = try await call("GET", path, key: key)
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// A port on 127.0.0.1 where every connect is refused, held for as long as this lives: a socket bound to it
/// that never listens. (A port from ``ServeProcess/freePort()`` is free only until another test binds it;
/// one of them once answered a test's "nothing listens there" with HTTP 404.)
public final class RefusingPort: Sendable {
    /// The port.
    public let port: Int
    private let fd: Int32

    /// Binds a socket to a free port and keeps it (not listening).
    public init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
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
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
