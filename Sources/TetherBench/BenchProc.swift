import Foundation

/// Reads what the benchmark needs from the OS: CPU time and RSS of a process (/proc), this process's
/// own CPU (getrusage), the machine, and clocks.
enum BenchProc {
    /// Wall clock in ms (with sub-ms precision): comparable across processes on this machine.
    static func wallMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) * 1_000 + Double(ts.tv_nsec) / 1_000_000
    }

    /// Monotonic clock in ns.
    static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// User and system CPU time of a process from `/proc/<pid>/stat` (all its threads), or `nil`.
    static func cpu(of pid: Int32) -> CPUTime? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parseStat(text)
    }

    /// Fields 14 (utime) and 15 (stime) of a `/proc/<pid>/stat` line, in seconds.
    static func parseStat(_ text: String, ticksPerSecond: Double = Double(sysconf(Int32(_SC_CLK_TCK)))) -> CPUTime? {
        // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) fields[12].
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return CPUTime(user: user / ticksPerSecond, system: system / ticksPerSecond)
    }

    /// Field 4 (the parent's pid) of a `/proc/<pid>/stat` line.
    static func parseParent(_ text: String) -> Int32? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so the parent (4) is fields[1].
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// Every process's parent, from `/proc/*/stat`.
    static func parentTable() -> [Int32: Int32] {
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let parent = parseParent(text)
            else { continue }
            parents[pid] = parent
        }
        return parents
    }

    /// The descendants of `root` in `parents` (pid → parent), nearest first.
    static func descendants(of root: Int32, parents: [Int32: Int32]) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for (pid, parent) in parents { children[parent, default: []].append(pid) }
        var out: [Int32] = []
        var level = [root]
        while !level.isEmpty {
            let next = level.flatMap { (children[$0] ?? []).sorted() }
            out += next
            level = next
        }
        return out
    }

    /// The executable a process runs (`/proc/<pid>/exe`), or `nil`.
    static func executable(of pid: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
    }

    /// Resident set size of a process in bytes (`/proc/<pid>/statm`), or `nil`.
    static func rss(of pid: Int32) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int64(fields[1]) else { return nil }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// This process's CPU time (µs precision).
    static func selfCPU() -> CPUTime {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000 }
        return CPUTime(user: seconds(usage.ru_utime), system: seconds(usage.ru_stime))
    }

    /// The path of the running executable.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The machine.
    static func machine() -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingSpaces } ?? "unknown"
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let memKiB =
            meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int64($0) } ?? 0
        var name = utsname()
        uname(&name)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return MachineInfo(
            cores: sysconf(Int32(_SC_NPROCESSORS_ONLN)), memoryBytes: memKiB * 1024, cpuModel: model,
            kernel: "\(text(name.sysname)) \(text(name.release))", fdLimit: Int(limit.rlim_cur))
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
