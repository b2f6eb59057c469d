/// A simulated client's transport.
enum SimTransport: String, Codable, Sendable, CaseIterable {
    case websocket = "ws"
    case tcp
    case http
}

/// What one simulated client does once during the run, besides heartbeating; `at` is the offset from the
/// run's start.
enum SimBehaviour: Sendable, Hashable {
    /// Heartbeats until the end, then leaves with `bye`.
    case steady
    /// Leaves with `bye` at `at`; a new user joins in its place and stays to the end.
    case churn(at: Duration)
    /// Drops its transport without `bye` at `at` and resumes with its resume token (WebSocket and TCP only).
    case kill(at: Duration)
    /// Stops sending anything at `at` without closing; the server must notice by its heartbeat timeout.
    case silent(at: Duration)
    /// Declares a suspension at `at`, comes back after `length`.
    case suspend(at: Duration, length: Duration)
}

/// Who does what: a deterministic assignment (from a seed) of transports and behaviours to `count` clients.
///
/// Percentages are of all clients and are exact after rounding: `kill` goes to WebSocket and TCP clients only
/// (an HTTP client has no transport to drop), so fewer kills happen when there are too few of them. Each client
/// gets at most one behaviour; its time is uniform in 10–60 % of the run, which leaves time to observe the
/// consequence (a resume, a detection) before the end.
struct SimPlan: Sendable {
    /// Percent of clients per behaviour.
    struct Mix: Sendable, Hashable {
        var churn = 0.0
        var kill = 0.0
        var silent = 0.0
        var suspend = 0.0
    }

    var transports: [SimTransport]
    var behaviours: [SimBehaviour]

    init(count: Int, transport: String, mix: Mix, duration: Duration, suspendLength: Duration, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        transports = (0..<count).map { i in
            switch transport {
            case "ws": .websocket
            case "tcp": .tcp
            case "http": .http
            default: SimTransport.allCases[i % 3]
            }
        }
        behaviours = Array(repeating: .steady, count: count)
        var free = Array(0..<count)
        free.shuffle(using: &rng)
        let durationMs = Double(duration.wholeMilliseconds)
        func at(_ rng: inout SplitMix64) -> Duration {
            .milliseconds(Int64(durationMs * Double.random(in: 0.1..<0.6, using: &rng)))
        }
        func take(_ percent: Double, eligible: (Int) -> Bool, make: (inout SplitMix64) -> SimBehaviour) {
            var wanted = Int((Double(count) * percent / 100).rounded())
            var kept: [Int] = []
            for i in free {
                if wanted > 0 && eligible(i) {
                    behaviours[i] = make(&rng)
                    wanted -= 1
                } else {
                    kept.append(i)
                }
            }
            free = kept
        }
        let transports = self.transports
        take(mix.kill, eligible: { transports[$0] != .http }, make: { .kill(at: at(&$0)) })
        take(mix.silent, eligible: { _ in true }, make: { .silent(at: at(&$0)) })
        take(mix.suspend, eligible: { _ in true }, make: { .suspend(at: at(&$0), length: suspendLength) })
        take(mix.churn, eligible: { _ in true }, make: { .churn(at: at(&$0)) })
    }
}

/// A small seeded generator (SplitMix64), so a plan is the same for the same seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
