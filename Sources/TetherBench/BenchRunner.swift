import Foundation

/// `tether bench`: runs scenarios against a real `tether serve` it starts itself (this executable, a
/// temporary data file, free ports), with the load from separate `tether bench-worker` processes (which call
/// ``BenchWorkerRunner/run(config:)``); prints a table against DESIGN.md's performance goals and writes the
/// figures as JSON. Goals that are missed do not fail the run; only a benchmark that cannot run does.
/// docs/PERFORMANCE.md explains each figure.
public enum BenchRunner {
    /// Runs `scenarios` (all when empty) with `options` (shrunk when `smoke`); writes the figures to `jsonOut`
    /// after each scenario; keeps the temporary directory when `keepFiles`. Throws when a scenario could not run.
    public static func run(
        _ scenarios: [BenchScenario], options given: BenchOptions, smoke: Bool, jsonOut: String, keepFiles: Bool
    ) async throws {
        var options = given
        if smoke { options.shrinkForSmoke() }
        // `cluster` and `queue` do not speak TLS yet: named with --tls they are refused, and a --tls run of every
        // scenario leaves them out.
        let plainOnly: [BenchScenario] = [.cluster, .queue]
        var chosen = scenarios
        if chosen.isEmpty { chosen = BenchScenario.allCases.filter { !options.tls || !plainOnly.contains($0) } }
        let context = try BenchContext()
        context.clientsPerWorker = options.clientsPerWorker
        if options.tls {
            let refused = chosen.filter { plainOnly.contains($0) }
            guard refused.isEmpty else {
                throw BenchError("--tls is not wired into \(refused.map(\.rawValue).joined(separator: ", ")) yet")
            }
            try context.useTLS()
        }
        var build = "release"
        #if DEBUG
            build = "debug"
        #endif
        var report = BenchReport(
            startedAt: Int64(BenchProc.wallMs()), build: build, smoke: smoke, machine: BenchProc.machine(),
            scenarios: [])
        report.tls = options.tls
        WorkerIO.say(
            "tether bench: \(report.machine.cores) cores, \(report.machine.memoryBytes >> 20) MiB, "
                + "\(report.machine.cpuModel); \(build) build\(smoke ? ", smoke sizes" : "")"
                + (options.tls ? ", TLS on every connection" : ""))
        var failures: [String] = []
        for scenario in chosen {
            WorkerIO.say("==> \(scenario.rawValue)")
            do {
                var result = try await scenario.run(context, options)
                result.charts = try writeCharts(result, nextTo: jsonOut)
                report.scenarios.append(result)
                BenchTable.print(result)
                try write(report, to: jsonOut)
            } catch {
                failures.append(scenario.rawValue)
                WorkerIO.say("    FAILED: \(error)")
            }
        }
        try write(report, to: jsonOut)
        await context.cleanUp(keepFiles: keepFiles)
        if keepFiles { WorkerIO.say("files kept in \(context.directory)") }
        WorkerIO.say("figures written to \(jsonOut)")
        BenchTable.printSummary(report)
        if !failures.isEmpty { throw BenchError("scenarios that could not run: \(failures.joined(separator: ", "))") }
    }

    /// Writes one SVG histogram per lateness series of `result` next to `jsonOut`
    /// (`bench-results.json` → `bench-results.liveness-loss.svg`); returns their file names (`nil`: none).
    static func writeCharts(_ result: ScenarioResult, nextTo jsonOut: String) throws -> [String]? {
        guard !result.lateness.isEmpty else { return nil }
        let json = URL(fileURLWithPath: jsonOut)
        let stem = json.deletingPathExtension().lastPathComponent
        var names: [String] = []
        for (series, samples) in result.lateness.sorted(by: { $0.key < $1.key }) {
            let name = "\(stem).\(result.name)\(series.isEmpty ? "" : "-" + series).svg"
            let title = series.isEmpty ? result.name : "\(result.name) · \(series)"
            let goal = result.goals.first { $0.figure == (series.isEmpty ? "" : series + ".") + "detectionP99Ms" }
            let svg = LatenessChart(title: title, samples: samples, goalMs: goal?.value).svg()
            try Data(svg.utf8).write(to: json.deletingLastPathComponent().appendingPathComponent(name))
            names.append(name)
        }
        WorkerIO.say("    charts: \(names.joined(separator: ", "))")
        return names
    }

    private static func write(_ report: BenchReport, to jsonOut: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: jsonOut))
    }
}
