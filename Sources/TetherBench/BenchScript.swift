import Foundation

extension BenchProc {
    /// Runs a shell command line and returns what it printed on stdout, trimmed; throws when it fails. Through
    /// posix_spawn and waitpid, its output in a file: Foundation's `Process` does not return while a grandchild
    /// (the PostgreSQL server scripts/postgres.sh starts) keeps its pipe open.
    static func script(_ line: String) throws -> String {
        let out = NSTemporaryDirectory() + "tether-bench-script-\(UUID()).out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let arguments = ["/bin/bash", "-c", "\(line) > '\(out)' 2>/dev/null < /dev/null"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/bash", nil, nil, &argv, environ) == 0 else {
            throw BenchError("cannot run: \(line)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw BenchError("failed (\(status)): \(line)") }
        return ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
    }
}
