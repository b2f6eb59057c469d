import Foundation

/// An SVG histogram of detection lateness (how long after its deadline a silent client was declared lost), as
/// `tether bench` writes it next to its JSON for each scenario that measures lateness: one bar per bucket on a
/// roughly logarithmic scale, the goal as a dashed line, p50/p99/max and the sample count in the subtitle.
/// Pure: samples in, SVG text out.
struct LatenessChart {
    /// The buckets' lower edges (ms); the first bucket holds everything below 0 (a deadline handled early), the
    /// last everything from 5 s on.
    static let edges: [Double] = [0, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000]

    /// What the chart shows, e.g. `liveness · loss`.
    var title: String
    /// Lateness samples, ms.
    var samples: [Double]
    /// The goal (ms), drawn at the edge it falls on; `nil`: none.
    var goalMs: Double? = 10

    /// The buckets' labels, in order: `< 0`, `0–0.5`, …, `≥ 5000` (ms).
    static var labels: [String] {
        func text(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
        var out = ["< 0"]
        for i in edges.indices.dropLast() { out.append("\(text(edges[i]))–\(text(edges[i + 1]))") }
        out.append("≥ \(text(edges.last!))")
        return out
    }

    /// How many samples fall in each bucket of ``labels``.
    var counts: [Int] {
        var counts = Array(repeating: 0, count: Self.edges.count + 1)
        for sample in samples where sample.isFinite {
            let i = Self.edges.lastIndex { sample >= $0 }.map { $0 + 1 } ?? 0
            counts[i] += 1
        }
        return counts
    }

    /// The chart as a standalone SVG document.
    func svg() -> String {
        let (width, height) = (720.0, 360.0)
        let (left, right, top, bottom) = (48.0, 16.0, 64.0, 64.0)
        let counts = counts
        let highest = max(1, counts.max() ?? 1)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let slot = plotWidth / Double(counts.count)
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="#fff"/>
            <text x="\(left)" y="22" font-size="15" font-weight="bold">\(Self.escape(title)): detection lateness</text>
            <text x="\(left)" y="42" fill="#555">\(Self.escape(subtitle))</text>
            <line x1="\(left)" y1="\(top + plotHeight)" x2="\(width - right)" y2="\(top + plotHeight)" stroke="#333"/>

            """
        for (i, count) in counts.enumerated() {
            let barHeight = plotHeight * Double(count) / Double(highest)
            let x = left + Double(i) * slot
            let y = top + plotHeight - barHeight
            out += """
                <rect class="bar" data-count="\(count)" x="\(Self.f(x + 2))" y="\(Self.f(y))" \
                width="\(Self.f(slot - 4))" height="\(Self.f(barHeight))" fill="#3b6fb6"/>

                """
            if count > 0 {
                out +=
                    "<text x=\"\(Self.f(x + slot / 2))\" y=\"\(Self.f(y - 4))\" text-anchor=\"middle\">\(count)</text>\n"
            }
            out += """
                <text x="\(Self.f(x + slot / 2))" y="\(Self.f(top + plotHeight + 14))" text-anchor="end" \
                transform="rotate(-40 \(Self.f(x + slot / 2)) \(Self.f(top + plotHeight + 14)))">\
                \(Self.escape(Self.labels[i]))</text>

                """
        }
        if let goalMs, let edge = Self.edges.firstIndex(of: goalMs) {
            let x = left + Double(edge + 1) * slot
            out += """
                <line class="goal" x1="\(Self.f(x))" y1="\(top - 6)" x2="\(Self.f(x))" y2="\(top + plotHeight)" \
                stroke="#c0392b" stroke-dasharray="4 3"/>
                <text x="\(Self.f(x + 4))" y="\(top - 2)" fill="#c0392b">goal ≤ \(Self.escape(String(Int(goalMs)))) ms</text>

                """
        }
        out +=
            "<text x=\"\(Self.f(left + plotWidth / 2))\" y=\"\(Int(height) - 6)\" text-anchor=\"middle\" fill=\"#555\">"
        out += "lateness after the deadline (ms)</text>\n</svg>\n"
        return out
    }

    /// `n = …, p50 …, p99 …, max … ms`, or `no samples`.
    var subtitle: String {
        guard let s = LatencySummary(samples) else { return "no samples" }
        return "n = \(samples.count) · p50 \(Self.ms(s.p50)) · p99 \(Self.ms(s.p99)) · max \(Self.ms(s.max)) ms"
    }

    private static func ms(_ v: Double) -> String { String(format: "%.1f", v) }
    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Text made safe inside an SVG element or attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}
