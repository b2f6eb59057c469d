import Foundation
import Synchronization
import Testing
import TetherClient

/// The real `tether serve` on fixed free ports (so a restart comes back where clients look), with a
/// ``TetherBackend`` pointed at it.
public final class SDKServer: @unchecked Sendable {
    public static let key = "sdk-test-key-5f1c2a"
    public let dataPath: String
    public let apiPort: Int
    public let clientPort: Int
    public let tcpPort: Int
    public private(set) var process: ServeProcess
    /// The certificate it serves TLS with (`--tls-cert`), or nil for plain HTTP, WebSocket and TCP.
    public let certificate: TestCertificate?

    /// Starts one, waiting for it off the cooperative pool (``offPool(_:)``): what tests call.
    public static func start(tls certificate: TestCertificate? = nil) async throws -> SDKServer {
        try await offPool { try SDKServer(tls: certificate) }
    }

    public init(tls certificate: TestCertificate? = nil) throws {
        self.certificate = certificate
        dataPath = FileManager.default.temporaryDirectory.appendingPathComponent("tether-sdk-\(UUID()).sqlite").path
        // The ports are picked free, then bound by the server: another test's server may take one in between
        // (seen once in a full CI run: the server exited before its backend API listened). A server that
        // exited at start is started again on other ports; one that runs but does not answer is an error.
        var attempt = 0
        while true {
            let ports = (ServeProcess.freePort(), ServeProcess.freePort(), ServeProcess.freePort())
            do {
                process = try ServeProcess(
                    dataPath: dataPath, apiKey: Self.key, tcpPort: ports.2, apiPort: ports.0, clientPort: ports.1,
                    extraArguments: certificate?.serveArguments ?? [])
                (apiPort, clientPort, tcpPort) = ports
                return
            } catch ServeProcess.ServeError.exited(let lines) {
                attempt += 1
                if attempt >= 3 { throw ServeProcess.ServeError.exited(lines) }
            }
        }
    }

    public var backend: TetherBackend {
        TetherBackend(url: URL(string: url)!, apiKey: Self.key, tls: try? certificate?.trust())
    }

    /// The backend API's URL (`https://` with TLS).
    public var url: String { "\(certificate == nil ? "http" : "https")://127.0.0.1:\(apiPort)" }

    /// Starts the binary again on the same data file and ports.
    public func restart() async throws {
        process = try await ServeProcess.start(
            dataPath: dataPath, apiKey: Self.key, tcpPort: tcpPort, apiPort: apiPort, clientPort: clientPort,
            extraArguments: certificate?.serveArguments ?? [])
    }

    /// SIGTERM without waiting for the exit (idempotent at the end of a test; see ``ChildProcess/signal(_:)``).
    public func stop() { process.stop() }

    /// A project with fast heartbeats (200 ms, 2 s timeout) unless told otherwise.
    public func project(
        _ id: String, capacity: Int = 2, intervalMs: Int64 = 200, timeoutMs: Int64 = 2_000, graceMs: Int64
    )
        async throws
    {
        _ = try await backend.createProject(
            id: id,
            policy: .init(
                capacity: capacity, heartbeatIntervalMs: intervalMs, heartbeatTimeoutMs: timeoutMs,
                reconnectGraceMs: graceMs))
    }

    /// ApplyConcurrent, then CreateSession.
    public func session(_ project: String, user: String) async throws -> TetherBackend.CreatedSession {
        _ = try await backend.apply(project: project, userId: user)
        return try await backend.createSession(project: project, userId: user)
    }
}

/// Every state a client streamed, in order.
public final class StateLog: Sendable {
    private let states = Mutex<[TetherClientState]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts reading `client.states`.
    public init(_ client: TetherClient) {
        let reader = Task { [weak self] in
            for await state in client.states { self?.states.withLock { $0.append(state) } }
        }
        task.withLock { $0 = reader }
    }

    public var all: [TetherClientState] { states.withLock { $0 } }

    /// Waits until a state matches; that state, or nil.
    public func wait(within timeout: Duration = .seconds(10), _ match: @Sendable (TetherClientState) -> Bool) async
        -> TetherClientState?
    {
        var found: TetherClientState?
        _ = await eventually(within: timeout) {
            found = all.last(where: match)
            return found != nil
        }
        return found
    }

    /// Waits for the `n`-th `.connected` (1-based).
    public func connected(_ n: Int, within timeout: Duration = .seconds(10)) async -> SessionInfo? {
        var found: SessionInfo?
        _ = await eventually(within: timeout) {
            let all = all.compactMap { state -> SessionInfo? in if case .connected(let s) = state { s } else { nil } }
            found = all.count >= n ? all[n - 1] : nil
            return found != nil
        }
        return found
    }

    /// Waits for `.ended`; its reason.
    public func ended(within timeout: Duration = .seconds(10)) async -> TetherClientEndReason? {
        if case .ended(let reason) = await wait(within: timeout, { if case .ended = $0 { true } else { false } }) {
            return reason
        }
        return nil
    }

    /// The `.reconnecting` states seen.
    public var reconnects: [(attempt: Int, delay: Duration)] {
        all.compactMap { if case .reconnecting(let a, let d) = $0 { (a, d) } else { nil } }
    }

    deinit { task.withLock { $0?.cancel() } }
}

extension TetherClientConfiguration {
    /// Quick reconnects for tests: 50 ms doubling up to 400 ms.
    public static var fast: TetherClientConfiguration {
        var c = TetherClientConfiguration()
        c.backoff = Backoff(base: .milliseconds(50), cap: .milliseconds(400))
        c.byeTimeout = .seconds(2)
        return c
    }

    /// ``fast``, its connection losses recorded by `losses` (for a failure message that says why).
    public static func fast(_ losses: LossRecorder) -> TetherClientConfiguration {
        var c = fast
        c.logger = losses.logger
        return c
    }
}
