import Foundation
import Testing

@testable import TetherBench

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The SVG lateness histogram `tether bench` writes next to its JSON (issue 18, item 5): samples fall in the
/// right buckets, the document is well-formed XML with one bar per bucket whose height follows its count, text
/// is escaped, and the runner writes one file per series next to the JSON.
struct LatenessChartTests {
    /// The bars of an SVG document: (count, height), in document order.
    final class Bars: NSObject, XMLParserDelegate {
        var bars: [(count: Int, height: Double)] = []
        var texts: [String] = []
        var goals = 0
        private var text = ""
        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            text = ""
            if name == "rect", attributes["class"] == "bar" {
                bars.append((Int(attributes["data-count"] ?? "") ?? -1, Double(attributes["height"] ?? "") ?? -1))
            }
            if name == "line", attributes["class"] == "goal" { goals += 1 }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { texts.append(text) }
        }

        static func parse(_ svg: String) throws -> Bars {
            let bars = Bars()
            let parser = XMLParser(data: Data(svg.utf8))
            parser.delegate = bars
            #expect(parser.parse(), "not well-formed: \(parser.parserError.map(String.init(describing:)) ?? "")")
            return bars
        }
    }

    @Test func samplesFallInTheirBuckets() {
        let chart = LatenessChart(
            title: "t", samples: [-3, 0, 0.4, 0.5, 1.9, 9.99, 10, 10, 4_999, 5_000, 70_000, .nan])
        let counts = chart.counts
        #expect(counts.count == LatenessChart.labels.count)
        let byLabel = Dictionary(uniqueKeysWithValues: zip(LatenessChart.labels, counts))
        #expect(byLabel["< 0"] == 1)
        #expect(byLabel["0–0.5"] == 2)
        #expect(byLabel["0.5–1"] == 1)
        #expect(byLabel["1–2"] == 1)
        #expect(byLabel["5–10"] == 1)
        #expect(byLabel["10–20"] == 2)
        #expect(byLabel["2000–5000"] == 1)
        #expect(byLabel["≥ 5000"] == 2)
        #expect(counts.reduce(0, +) == 11, "NaN is left out")
    }

    @Test func theSVGHasABarPerBucketScaledToItsCountAndTheGoal() throws {
        let samples = Array(repeating: 0.7, count: 40) + Array(repeating: 3.0, count: 10) + [12]
        let chart = LatenessChart(title: "liveness · loss <&>", samples: samples, goalMs: 10)
        let parsed = try Bars.parse(chart.svg())
        #expect(parsed.bars.map(\.count) == chart.counts)
        let tallest = try #require(parsed.bars.map(\.height).max())
        #expect(tallest > 0)
        for bar in parsed.bars {
            #expect(abs(bar.height - tallest * Double(bar.count) / 40) < 0.1, "\(bar)")
        }
        #expect(parsed.goals == 1)
        #expect(parsed.texts.contains("liveness · loss <&>: detection lateness"))
        #expect(parsed.texts.contains { $0.hasPrefix("n = 51 · p50 0.7 · p99 12.0 · max 12.0 ms") })
        #expect(parsed.texts.contains("goal ≤ 10 ms"))
        // No goal line for a goal that is not a bucket edge, and an empty chart says so.
        let empty = try Bars.parse(LatenessChart(title: "e", samples: [], goalMs: 7).svg())
        #expect(empty.goals == 0 && empty.bars.allSatisfy { $0.count == 0 && $0.height == 0 })
        #expect(empty.texts.contains("no samples"))
    }

    @Test func theRunnerWritesOneChartPerSeriesNextToTheJSON() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var result = ScenarioResult(
            name: "liveness", parameters: [:], figures: [:], goals: [], serverCPU: .zero, loadCPU: .zero,
            windowSeconds: 1, totalSeconds: 1, notes: [])
        #expect(try BenchRunner.writeCharts(result, nextTo: directory.appendingPathComponent("r.json").path) == nil)
        result.lateness = ["loss": [1, 2, 3], "stall": [2_000]]
        result.goal("loss.detectionP99Ms", "<=", 10)
        let names = try BenchRunner.writeCharts(result, nextTo: directory.appendingPathComponent("r.json").path)
        #expect(names == ["r.liveness-loss.svg", "r.liveness-stall.svg"])
        let loss = try String(contentsOf: directory.appendingPathComponent("r.liveness-loss.svg"), encoding: .utf8)
        let parsed = try Bars.parse(loss)
        #expect(parsed.bars.map(\.count).reduce(0, +) == 3 && parsed.goals == 1)
        #expect(parsed.texts.contains("liveness · loss: detection lateness"))
        // The samples are charted, not written into the JSON; the chart names are.
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        #expect(!json.contains("lateness"))
        result.charts = names
        let decoded = try JSONDecoder().decode(
            ScenarioResult.self, from: try JSONEncoder().encode(result))
        #expect(decoded.charts == names && decoded.lateness.isEmpty)
    }
}
