/// Prints results as plain-text tables (each line written at once, also into a file or a pipe).
enum BenchTable {
    /// A progress line, written at once (also when stdout is a file).
    static func progress(_ line: String) { WorkerIO.say("    … \(line)") }

    /// One scenario: every figure, with its goal when it has one, then the CPU times.
    static func print(_ r: ScenarioResult) {
        let goals = Dictionary(r.goals.map { ($0.figure, $0) }, uniquingKeysWith: { a, _ in a })
        for key in r.figures.keys.sorted() {
            let value = r.figures[key]!
            var line = "    " + pad(key, 26) + pad(format(value), 14, right: true)
            if let goal = goals[key] {
                line += "   goal \(goal.comparison) \(format(goal.value))  " + (goal.met == true ? "met" : "MISSED")
            }
            WorkerIO.say(line)
        }
        WorkerIO.say(
            "    " + pad("server CPU / load CPU", 26)
                + pad("\(format(r.serverCPU.total)) s / \(format(r.loadCPU.total)) s", 14, right: true)
                + "   over \(format(r.windowSeconds)) s (scenario \(format(r.totalSeconds)) s)")
        for note in r.notes { WorkerIO.say("    note: \(note)") }
    }

    /// Every goal of the run: goal, measured, met.
    static func printSummary(_ report: BenchReport) {
        WorkerIO.say("")
        WorkerIO.say(pad("scenario", 15) + pad("figure", 26) + pad("measured", 14, right: true) + "   goal")
        for r in report.scenarios {
            for goal in r.goals {
                let measured = r.figures[goal.figure].map(format) ?? "-"
                WorkerIO.say(
                    pad(r.name, 15) + pad(goal.figure, 26) + pad(measured, 14, right: true) + "   "
                        + "\(goal.comparison) \(format(goal.value))  " + (goal.met == true ? "met" : "MISSED"))
            }
        }
    }

    /// A number with at most 3 significant decimals, without trailing zeros.
    static func format(_ value: Double) -> String {
        if value.isNaN || value.isInfinite { return "\(value)" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        let digits = abs(value) >= 100 ? 1 : abs(value) >= 1 ? 2 : 3
        var text = String(value.rounded(toPlaces: digits))
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        guard text.count < width else { return text + " " }
        let space = String(repeating: " ", count: width - text.count)
        return right ? space + text : text + space
    }
}

extension Double {
    /// Rounded to `places` decimals.
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}
