/// What `tether bench` writes as JSON (`--json-out`): the machine, then each scenario's figures.
struct BenchReport: Codable, Sendable {
    /// Bumped when the shape changes.
    var schema = 1
    /// Unix ms when the run started.
    var startedAt: Int64
    /// `debug` or `release`: only release figures mean anything.
    var build: String
    /// Whether this was a `--smoke` run (tiny sizes; figures meaningless).
    var smoke: Bool
    /// Whether the servers served TLS and the load spoke it (`--tls`).
    var tls = false
    /// Where it ran.
    var machine: MachineInfo
    /// The scenarios, in the order they ran.
    var scenarios: [ScenarioResult]
}

/// The machine the figures come from.
struct MachineInfo: Codable, Sendable, Equatable {
    /// Online CPUs.
    var cores: Int
    /// Total memory in bytes.
    var memoryBytes: Int64
    /// `model name` from /proc/cpuinfo.
    var cpuModel: String
    /// The kernel (`uname -sr`).
    var kernel: String
    /// The soft fd limit of this process.
    var fdLimit: Int
}

/// CPU time in seconds (user + system), read from /proc/<pid>/stat or getrusage.
struct CPUTime: Codable, Sendable, Equatable {
    /// User time.
    var user: Double
    /// System time.
    var system: Double
    /// The sum.
    var total: Double { user + system }

    /// No time.
    static let zero = CPUTime(user: 0, system: 0)

    static func + (a: CPUTime, b: CPUTime) -> CPUTime { CPUTime(user: a.user + b.user, system: a.system + b.system) }
    static func - (a: CPUTime, b: CPUTime) -> CPUTime { CPUTime(user: a.user - b.user, system: a.system - b.system) }

    private enum CodingKeys: String, CodingKey { case user, system, total }

    init(user: Double, system: Double) {
        self.user = user
        self.system = system
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        user = try c.decode(Double.self, forKey: .user)
        system = try c.decode(Double.self, forKey: .system)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(user, forKey: .user)
        try c.encode(system, forKey: .system)
        try c.encode(total, forKey: .total)
    }
}

/// One goal of DESIGN.md "Performance goals" checked against a figure.
struct Goal: Codable, Sendable, Equatable {
    /// The figure's key in ``ScenarioResult/figures``.
    var figure: String
    /// `<=` or `>=`.
    var comparison: String
    /// The goal's value, in the figure's unit.
    var value: Double
    /// Whether the figure meets it (`nil` when the figure is missing).
    var met: Bool?
}

/// One scenario's outcome.
struct ScenarioResult: Codable, Sendable {
    /// The scenario's name (`tether bench <name>`).
    var name: String
    /// Its sizes and settings.
    var parameters: [String: Double]
    /// The measured figures; the unit is in the key (`Ms`, `Us`, `PerSecond`, `Bytes`, `Count`).
    var figures: [String: Double]
    /// The goals checked against the figures.
    var goals: [Goal]
    /// The server's CPU time during the measured window.
    var serverCPU: CPUTime
    /// The load processes' CPU time during the measured window (all workers together).
    var loadCPU: CPUTime
    /// Wall time of the measured window.
    var windowSeconds: Double
    /// Wall time of the whole scenario (setup included).
    var totalSeconds: Double
    /// Anything worth knowing when reading the figures (e.g. the event reader fell back to polling).
    var notes: [String]
    /// The SVG charts written next to the JSON (file names), one per lateness series.
    var charts: [String]? = nil
    /// Detection lateness samples (ms) by series (`""`: the scenario's only one; a disturbance's name for
    /// `liveness`); charted, not written to the JSON.
    var lateness: [String: [Double]] = [:]

    private enum CodingKeys: String, CodingKey {
        case name, parameters, figures, goals, serverCPU, loadCPU, windowSeconds, totalSeconds, notes, charts
    }

    /// Checks `figure` against a goal and records the outcome.
    mutating func goal(_ figure: String, _ comparison: String, _ value: Double) {
        let met: Bool? = figures[figure].map { comparison == "<=" ? $0 <= value : $0 >= value }
        goals.append(Goal(figure: figure, comparison: comparison, value: value, met: met))
    }
}
