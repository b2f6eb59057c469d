import Foundation

/// The process limits the simulator works with: open files and CPU time.
enum SimLimits {
    /// Raises the soft open-file limit to the hard one; returns the soft limit after.
    @discardableResult
    static func raiseFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Clients one process can hold: one descriptor each, 10 % and 200 kept for everything else.
    static func clientsPerProcess() -> Int {
        let files = raiseFileLimit()
        return max(16, files - files / 10 - 200)
    }

    /// CPU time (user + system, seconds) of this process, or of its waited-for children.
    static func cpuSeconds(children: Bool = false) -> Double {
        var usage = rusage()
        #if os(Linux)
            getrusage(__rusage_who_t((children ? RUSAGE_CHILDREN : RUSAGE_SELF).rawValue), &usage)
        #else
            getrusage(children ? RUSAGE_CHILDREN : RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
