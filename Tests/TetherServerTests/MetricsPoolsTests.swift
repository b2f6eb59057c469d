import Testing
import TetherCore

@testable import TetherServer

/// The pool gauges are per process, and tests run many servers in one: each `/metrics` sets them to its own
/// projects and renders, and another server's update must not fall in between (it zeroed this one's projects,
/// and MetricsTests saw `tether_slots{…,state="total"} 0` under the full suite).
@Suite struct MetricsPoolsTests {
    static func count(_ total: Int) -> ConcurrencyCount {
        ConcurrencyCount(
            total: total, idle: total, reserved: 0, running: 0, created: 0, connected: 0, suspended: 0, grace: 0)
    }

    @Test func serversRenderingAtOnceEachSeeTheirOwnPools() async {
        let wrong = await withTaskGroup(of: Int.self) { group in
            for (project, total) in [("pools-a", 3), ("pools-b", 5), ("pools-c", 7), ("pools-d", 9)] {
                group.addTask {
                    var wrong = 0
                    for _ in 0..<1_000 {
                        let text = String(
                            decoding: TetherMetrics.render(pools: [project: Self.count(total)]), as: UTF8.self)
                        let series = #"tether_slots{project="\#(project)",state="total"} "#
                        let value = text.split(separator: "\n").first { $0.hasPrefix(series) }
                            .flatMap { Double($0.dropFirst(series.count)) }
                        if value != Double(total) { wrong += 1 }
                    }
                    return wrong
                }
            }
            return await group.reduce(0, +)
        }
        #expect(wrong == 0, "\(wrong) of 4 000 renders showed another server's pools")
    }
}
