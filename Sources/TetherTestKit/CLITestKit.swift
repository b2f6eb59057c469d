import Foundation
import Testing

/// Runs the built `tether` binary as a backend client and collects what it printed.
public struct CLI {
    /// What one run printed, and how it exited.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        /// stdout parsed as JSON.
        public func json() throws -> [String: Any] {
            let value = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
            return try #require(value as? [String: Any], "not a JSON object: \(stdout)")
        }
    }

    /// `TETHER_URL`/`TETHER_API_KEY` for the run (nil: unset).
    public var url: String?
    public var apiKey: String?

    /// A CLI run with `TETHER_URL` and `TETHER_API_KEY` set to these (nil: unset).
    public init(url: String? = nil, apiKey: String? = nil) {
        self.url = url
        self.apiKey = apiKey
    }

    /// Runs `tether <arguments>` with the environment above (and nothing else of ours).
    public func run(_ arguments: String...) async throws -> Result { try await run(arguments) }

    public func run(_ arguments: [String]) async throws -> Result {
        let running = try start(arguments)
        return await running.result()
    }

    /// Starts `tether <arguments>` in the background (for `events --follow`).
    public func start(_ arguments: [String]) throws -> Running {
        var environment = ProcessInfo.processInfo.environment
        environment["TETHER_URL"] = url
        environment["TETHER_API_KEY"] = apiKey
        return try Running(arguments, environment: environment)
    }

    /// A run in progress; its output goes to temporary files.
    public final class Running: @unchecked Sendable {
        public let process: ChildProcess
        public let out = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-\(UUID()).out")
        public let err = FileManager.default.temporaryDirectory.appendingPathComponent("tether-cli-\(UUID()).err")

        init(_ arguments: [String], environment: [String: String]) throws {
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            _ = FileManager.default.createFile(atPath: err.path, contents: nil)
            let stdout = try FileHandle(forWritingTo: out)
            let stderr = try FileHandle(forWritingTo: err)
            defer {
                try? stdout.close()
                try? stderr.close()
            }
            process = try ChildProcess(
                ServeProcess.binary, arguments, environment: environment,
                stdout: .descriptor(stdout.fileDescriptor), stderr: .descriptor(stderr.fileDescriptor))
        }

        /// What it printed so far.
        public var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        /// What it printed on standard error so far.
        public var stderr: String { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }

        /// The result once it has exited (waited for without blocking a thread).
        public func result() async -> Result {
            let status = await process.exitStatus()
            let r = Result(status: status, stdout: stdout, stderr: stderr)
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
            return r
        }

        /// SIGTERM, then the result.
        public func stop() async -> Result {
            if process.isRunning { process.terminate() }
            return await result()
        }

        /// SIGTERM without waiting, and its output files removed: the end of a test (`defer`).
        public func cancel() {
            process.signal(SIGTERM)
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
    }
}
