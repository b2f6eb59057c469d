import Foundation
import Synchronization

/// A child process of `tether bench` (the server or a load process): its stdout read line by line on a
/// thread of its own, its stdin writable, its stderr in a file.
/// `@unchecked`: `Process` and `Pipe` are used only in ways that are safe across threads (pid, signals,
/// writes to stdin); the lines are behind a mutex.
final class BenchChildProcess: @unchecked Sendable {
    let process: Process
    private let stdin: Pipe
    private let lines = Mutex<[String]>([])
    private let ended = Atomic<Bool>(false)
    /// The file that receives its stderr.
    let stderrPath: String

    /// Starts `executable arguments…`.
    init(executable: String, arguments: [String], stderrPath: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath) ?? FileHandle.nullDevice
        self.process = process
        self.stdin = stdin
        self.stderrPath = stderrPath
        try process.run()
        let fd = stdout.fileHandleForReading.fileDescriptor
        let thread = Thread { [self] in
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                // read(2) retried on EINTR: FileHandle.availableData traps when a signal interrupts it.
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                pending += chunk[0..<n]
                while let newline = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    lines.withLock { $0.append(line) }
                }
            }
            ended.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// The process id.
    var pid: Int32 { process.processIdentifier }

    /// Every stdout line so far.
    var output: [String] { lines.withLock { $0 } }

    /// Waits until a stdout line satisfies `match` and returns it; fails when the process ends first or
    /// after `timeout` seconds.
    func waitForLine(timeout: Double, _ match: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var seen = 0
        while true {
            let all = output
            if let line = all[seen...].first(where: match) { return line }
            seen = all.count
            if let error = all.first(where: { $0.hasPrefix("error ") }) { throw BenchError("\(error)\n\(stderrTail)") }
            if ended.load(ordering: .acquiring) && !process.isRunning {
                throw BenchError("process \(pid) ended without the expected line\n\(stderrTail)")
            }
            if Date() > deadline { throw BenchError("timed out waiting for process \(pid)\n\(stderrTail)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Writes a line to its stdin.
    func send(_ line: String) {
        try? stdin.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// The last lines of its stderr.
    var stderrTail: String {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// Sends a signal.
    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the exit (polling, so no thread blocks), at most `timeout` seconds; SIGKILL after that.
    func waitForExit(timeout: Double) async {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        if process.isRunning {
            kill(pid, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(5)) }
        }
    }
}
