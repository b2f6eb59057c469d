import Foundation
import Synchronization

/// A child process started with `posix_spawn`, for the tests' `tether` processes.
///
/// Not Foundation's `Process`: on Linux its `run()` finds the highest open descriptor by copying each
/// `/proc/self/fd` entry's whole 256-byte `d_name` out of `readdir`'s buffer, which reads past the buffer's end
/// once the test process has about 1 360 descriptors open; a fresh-clone CI run died of it (SIGSEGV in a
/// `memcpy` inside `Process.run()`, the registers holding "1353", "1354", "1357"). Here the child's other
/// descriptors are closed by glibc's `posix_spawn_file_actions_addclosefrom_np`, and a thread per child waits
/// for its exit. (swift-subprocess, which does the same, only runs a child inside an `async` scope; the tests
/// start theirs synchronously and keep them across awaits.)
public final class ChildProcess: @unchecked Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// This descriptor of ours (the child gets a copy).
        case descriptor(Int32)
    }

    /// Why a child could not be started.
    public struct SpawnError: Error, CustomStringConvertible {
        public let path: String
        public let errno: Int32
        public var description: String { "cannot start \(path): \(String(cString: strerror(errno)))" }
    }

    /// The child's process id.
    public let processIdentifier: pid_t
    /// The status reported when the child's exit status could not be read (`waitpid` failed).
    public static let unknownStatus: Int32 = -1
    private let exited = DispatchGroup()
    private let state = Mutex(State())

    private struct State {
        var status: Int32?
        var handlers: [@Sendable () -> Void] = []
    }

    /// Starts `executable` with `arguments` and `environment` (default: ours), its standard output and error
    /// sent to `stdout` and `stderr`, its standard input from `/dev/null`, and no other descriptor of ours.
    public init(
        _ executable: URL, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        stdout: Stream = .null, stderr: Stream = .null
    ) throws {
        let path = executable.path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, stream) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch stream {
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            }
        }
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation's Process did: a ^C at the terminal reaches the tests only.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnError(path: path, errno: result) }
        processIdentifier = pid
        exited.enter()
        Self.live.withLock { $0[pid] = self }
        _ = Self.stopAtExit
        let thread = Thread { [self] in reap() }
        thread.name = "reap \(pid)"
        thread.start()
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc module does not
    /// declare.
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    private func reap() {
        var status: Int32 = 0
        var failure: Int32 = 0
        while waitpid(processIdentifier, &status, 0) < 0 {
            if errno == EINTR { continue }
            failure = errno
            break
        }
        let code: Int32
        if failure == 0 {
            // Exit code if it exited, the signal's number if a signal ended it (as Foundation's Process reports).
            let signal = status & 0x7f
            code = signal == 0 ? (status >> 8) & 0xff : signal
        } else {
            // Someone else reaped it (or it was never ours): its status is lost. Not 0, which would pass for
            // success while the child may still be writing its output: wait until the process is gone, then
            // report `unknownStatus` and say why on our standard error.
            while kill(processIdentifier, 0) == 0 { usleep(10_000) }
            code = Self.unknownStatus
            FileHandle.standardError.write(
                Data("ChildProcess: waitpid(\(processIdentifier)) failed: \(String(cString: strerror(failure)))\n".utf8)
            )
        }
        let handlers = state.withLock { state in
            state.status = code
            let handlers = state.handlers
            state.handlers = []
            return handlers
        }
        Self.live.withLock { _ = $0.removeValue(forKey: processIdentifier) }
        exited.leave()
        for handler in handlers { handler() }
    }

    /// The children that have not exited yet.
    private static let live = Mutex<[pid_t: ChildProcess]>([:])

    /// Installed once, with the first child: when the test process exits, every child still running gets
    /// SIGTERM (and SIGCONT, for a stopped one) and 60 s to exit, then SIGKILL. So a test ends its servers
    /// with ``signal(_:)`` and never waits for their exit on the cooperative pool (a SIGTERM'd `tether serve`
    /// shuts down gracefully and writes its coverage profile, which takes seconds on a loaded machine), and
    /// no child is still writing its profile when `swift test` merges them.
    private static let stopAtExit: Void = { atexit { ChildProcess.stopAll(within: 60) } }()

    /// SIGTERM to every child still running, then waits up to `seconds` for them, then SIGKILL.
    static func stopAll(within seconds: Double) {
        let children = live.withLock { Array($0.values) }
        for child in children {
            kill(child.processIdentifier, SIGCONT)
            kill(child.processIdentifier, SIGTERM)
        }
        let deadline = DispatchTime.now() + seconds
        for child in children where child.exited.wait(timeout: deadline) == .timedOut {
            kill(child.processIdentifier, SIGKILL)
            _ = child.exited.wait(timeout: .now() + 5)
        }
    }

    /// Whether it has not exited yet.
    public var isRunning: Bool { state.withLock { $0.status == nil } }

    /// Blocks until it has exited.
    public func waitUntilExit() { exited.wait() }

    /// Its exit code, or the number of the signal that ended it; waits for the exit.
    public var terminationStatus: Int32 {
        waitUntilExit()
        return state.withLock { $0.status ?? -1 }
    }

    /// Calls `handler` once it has exited (at once if it has).
    public func onExit(_ handler: @escaping @Sendable () -> Void) {
        let now = state.withLock {
            if $0.status != nil { return true }
            $0.handlers.append(handler)
            return false
        }
        if now { handler() }
    }

    /// Waits for its exit without blocking a thread.
    public func exit() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in onExit { done.resume() } }
    }

    /// Sends SIGTERM.
    public func terminate() { kill(processIdentifier, SIGTERM) }

    /// Sends `signal` (SIGCONT first, so that a stopped child gets it) and returns at once: the end of a test,
    /// which must not wait for the exit on the cooperative pool. The exit is reaped on the child's own thread;
    /// a child still running when the test process exits is waited for then.
    public func signal(_ signal: Int32) {
        guard isRunning else { return }
        kill(processIdentifier, SIGCONT)
        kill(processIdentifier, signal)
    }

    /// Waits for its exit without blocking a thread, and returns its status (``terminationStatus``).
    public func exitStatus() async -> Int32 {
        await exit()
        return state.withLock { $0.status ?? Self.unknownStatus }
    }

    /// A pipe whose read end stays here and whose write end is given to a child; both ends close on exec in
    /// any other child.
    public final class OutputPipe: @unchecked Sendable {
        /// Our end.
        public let readEnd: Int32
        /// The child's end: close it here once the child has started (``closeWriteEnd()``).
        public private(set) var writeEnd: Int32

        public init() {
            var fds: [Int32] = [0, 0]
            _ = pipe(&fds)
            // Close-on-exec (Swift's Glibc has no pipe2): no other child inherits them, whatever it closes.
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            readEnd = fds[0]
            writeEnd = fds[1]
        }

        /// Closes our copy of the child's end, so that reads end when the child exits.
        public func closeWriteEnd() {
            if writeEnd >= 0 { close(writeEnd) }
            writeEnd = -1
        }

        /// Everything until every writer has closed it.
        public func readToEnd() -> String {
            closeWriteEnd()
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, 4096) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                bytes += chunk[0..<n]
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        deinit {
            closeWriteEnd()
            close(readEnd)
        }
    }

    /// Runs `executable` until it exits: its status and what it wrote to its standard error and, with
    /// `standardOutput`, to its standard output (else that goes to `/dev/null`).
    /// The wait (for its output to end) runs off the cooperative pool (``offPool(_:)``).
    public static func run(
        _ executable: URL, _ arguments: [String], standardOutput: Bool = true
    ) async throws -> (status: Int32, output: String) {
        try await offPool { try runBlocking(executable, arguments, standardOutput: standardOutput) }
    }

    /// ``run(_:_:standardOutput:)`` blocking its thread.
    static func runBlocking(
        _ executable: URL, _ arguments: [String], standardOutput: Bool = true
    ) throws -> (status: Int32, output: String) {
        let pipe = OutputPipe()
        let child = try ChildProcess(
            executable, arguments, stdout: standardOutput ? .descriptor(pipe.writeEnd) : .null,
            stderr: .descriptor(pipe.writeEnd))
        let output = pipe.readToEnd()
        return (child.terminationStatus, output)
    }
}
