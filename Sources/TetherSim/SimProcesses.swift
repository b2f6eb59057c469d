import Foundation
import Synchronization

/// Runs a sim's share of clients in child processes (`tether sim --worker-spec <json>`, the same binary) and
/// collects what they print: a progress line every second and their report at the end, as JSON lines.
enum SimProcesses {
    /// Starts one worker per spec; calls `progress` with the sum of the workers' latest gauges; returns their
    /// reports added up.
    static func run(
        _ specs: [SimSpec], apiKey: String?, nice: Int32 = 0, progress: @escaping @Sendable (SimProgress) -> Void
    ) async throws -> SimReport {
        let latest = Mutex([SimProgress](repeating: SimProgress(), count: specs.count))
        let reports = Mutex([SimReport?](repeating: nil, count: specs.count))
        var processes: [Process] = []
        var readers: [Thread] = []
        let done = DispatchGroup()
        for (i, spec) in specs.enumerated() {
            let process = Process()
            let arguments = [
                "sim", "--worker-spec", String(decoding: try JSONEncoder().encode(spec), as: UTF8.self),
            ]
            if nice > 0 {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
                process.arguments = ["-n", String(nice), executable.path] + arguments
            } else {
                process.executableURL = executable
                process.arguments = arguments
            }
            var environment = ProcessInfo.processInfo.environment
            environment["TETHER_API_KEY"] = apiKey
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            processes.append(process)
            let fd = pipe.fileHandleForReading.fileDescriptor
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                let decoder = JSONDecoder()
                for line in lines(fd) {
                    guard let parsed = try? decoder.decode(SimWorkerLine.self, from: Data(line.utf8)) else { continue }
                    if let p = parsed.progress {
                        let sum = latest.withLock {
                            $0[i] = p
                            return $0.reduce(into: SimProgress()) { $0.add($1) }
                        }
                        progress(sum)
                    }
                    if let r = parsed.report { reports.withLock { $0[i] = r } }
                }
            }
            thread.start()
            readers.append(thread)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            done.notify(queue: .global()) { continuation.resume() }
        }
        for process in processes { process.waitUntilExit() }
        var total = SimReport()
        for (i, report) in reports.withLock({ $0 }).enumerated() {
            guard let report else {
                total.errors += 1
                // First, so that a summary showing only a few notes still shows this one.
                total.notes.insert("worker \(i) exited (\(processes[i].terminationStatus)) without a report", at: 0)
                continue
            }
            total.merge(report)
        }
        return total
    }

    /// This binary.
    static var executable: URL {
        #if os(Linux)
            URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        #else
            Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        #endif
    }

    /// The lines read from `fd` until end of file (blocking reads, retried on EINTR).
    private static func lines(_ fd: Int32) -> AnyIterator<String> {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var eof = false
        return AnyIterator {
            while true {
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[..<newline], as: UTF8.self)
                    buffer.removeSubrange(...newline)
                    return line
                }
                if eof { return nil }
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65_536) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    eof = true
                    if buffer.isEmpty { return nil }
                    let line = String(decoding: buffer, as: UTF8.self)
                    buffer = []
                    return line
                }
                buffer += chunk[0..<n]
            }
        }
    }
}
