import SonoMetrics
import Foundation

/// Small self-contained SVG charts for reports and run folders: no scripts, no fonts beyond sans-serif, so a
/// browser shows them offline and a file viewer can too.
enum Charts {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var colour: String
        var dashed = false
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    /// Lines over a shared x axis, with a legend; y from 0 when every value is non-negative.
    static func lines(_ series: [Series], title: String, xLabel: String, yLabel: String, width: Double = 420, height: Double = 260,
                      yRange: ClosedRange<Double>? = nil, logY: Bool = false) -> String {
        let all = series.flatMap(\.points).filter { $0.y.isFinite && (!logY || $0.y > 0) }
        let (left, right, top, bottom) = (52.0, 12.0, 28.0, 40.0)
        var s = header(width, height, title)
        guard let minX = all.map(\.x).min(), let maxX = all.map(\.x).max() else { return s + "</svg>\n" }
        func ty(_ y: Double) -> Double { logY ? log10(y) : y }
        var lo = yRange?.lowerBound ?? all.map { ty($0.y) }.min()!, hi = yRange?.upperBound ?? all.map { ty($0.y) }.max()!
        if !logY && yRange == nil && lo >= 0 { lo = 0 }
        if hi - lo < 1e-12 { hi = lo + 1 }
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + (maxX > minX ? (x - minX) / (maxX - minX) : 0.5) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (ty(y) - lo) / (hi - lo)) * plotH }
        s += axes(left: left, top: top, plotW: plotW, plotH: plotH)
        for k in 0...4 {
            let v = lo + (hi - lo) * Double(k) / 4, y = top + (1 - Double(k) / 4) * plotH
            let label = logY ? String(format: "%.0e", pow(10, v)) : String(format: abs(hi) < 10 ? "%.2f" : "%.0f", v)
            s += "<text x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(label)</text>\n"
        }
        for k in 0...4 {
            let v = minX + (maxX - minX) * Double(k) / 4
            s += "<text x=\"\(f(px(v)))\" y=\"\(f(top + plotH + 14))\" text-anchor=\"middle\">\(String(format: maxX - minX < 5 ? "%.2f" : "%.0f", v))</text>\n"
        }
        for (i, line) in series.enumerated() {
            let pts = line.points.filter { $0.y.isFinite && (!logY || $0.y > 0) }.map { "\(f(px($0.x))),\(f(py($0.y)))" }
            guard !pts.isEmpty else { continue }
            s += "<polyline fill=\"none\" stroke=\"\(line.colour)\" stroke-width=\"1.8\"\(line.dashed ? " stroke-dasharray=\"4 3\"" : "") points=\"\(pts.joined(separator: " "))\"/>\n"
            let ly = top + 12 + Double(i) * 14
            s += "<line x1=\"\(f(left + plotW - 110))\" y1=\"\(f(ly - 4))\" x2=\"\(f(left + plotW - 92))\" y2=\"\(f(ly - 4))\" stroke=\"\(line.colour)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(f(left + plotW - 88))\" y=\"\(f(ly))\">\(escapeXML(line.name))</text>\n"
        }
        s += labels(width: width, height: height, left: left, top: top, plotH: plotH, xLabel: xLabel, yLabel: yLabel)
        return s + "</svg>\n"
    }

    /// A histogram of values in [lo, hi] with `bins` equal bins.
    static func histogram(_ values: [Double], bins: Int = 20, range: ClosedRange<Double> = 0...1, title: String, xLabel: String,
                          width: Double = 420, height: Double = 240) -> String {
        var counts = [Int](repeating: 0, count: bins)
        for v in values where v.isFinite {
            let b = Int((v - range.lowerBound) / (range.upperBound - range.lowerBound) * Double(bins))
            counts[min(bins - 1, max(0, b))] += 1
        }
        let (left, right, top, bottom) = (44.0, 12.0, 28.0, 40.0)
        let plotW = width - left - right, plotH = height - top - bottom, peak = Double(max(1, counts.max() ?? 1))
        var s = header(width, height, title) + axes(left: left, top: top, plotW: plotW, plotH: plotH)
        for (b, c) in counts.enumerated() where c > 0 {
            let h = Double(c) / peak * plotH, x = left + Double(b) / Double(bins) * plotW
            s += "<rect x=\"\(f(x + 0.5))\" y=\"\(f(top + plotH - h))\" width=\"\(f(plotW / Double(bins) - 1))\" height=\"\(f(h))\" fill=\"#4a7fb5\"><title>\(c) images</title></rect>\n"
        }
        for k in 0...4 {
            let v = range.lowerBound + (range.upperBound - range.lowerBound) * Double(k) / 4
            s += "<text x=\"\(f(left + Double(k) / 4 * plotW))\" y=\"\(f(top + plotH + 14))\" text-anchor=\"middle\">\(String(format: "%.2f", v))</text>\n"
        }
        s += "<text x=\"\(f(left - 4))\" y=\"\(f(top + 4))\" text-anchor=\"end\">\(Int(peak))</text><text x=\"\(f(left - 4))\" y=\"\(f(top + plotH))\" text-anchor=\"end\">0</text>\n"
        s += labels(width: width, height: height, left: left, top: top, plotH: plotH, xLabel: xLabel, yLabel: "images")
        return s + "</svg>\n"
    }

    /// The ROC curve of scores against positives, with the chance diagonal and the AUC in the title.
    static func roc(scores: [Double], positives: [Bool], title: String) -> String {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let p = Double(positives.filter { $0 }.count), n = Double(positives.count) - p
        guard p > 0, n > 0 else { return lines([], title: title, xLabel: "", yLabel: "") }
        var (tp, fp) = (0.0, 0.0), points: [(x: Double, y: Double)] = [(0, 0)]
        for (k, i) in order.enumerated() {
            if positives[i] { tp += 1 } else { fp += 1 }
            if k == order.count - 1 || scores[order[k + 1]] != scores[i] { points.append((fp / n, tp / p)) }
        }
        let auc = zip(points, points.dropFirst()).reduce(0.0) { $0 + ($1.1.x - $1.0.x) * ($1.1.y + $1.0.y) / 2 }
        return lines([Series(name: "ROC", points: points, colour: palette[0]),
                      Series(name: "chance", points: [(0, 0), (1, 1)], colour: "#999", dashed: true)],
                     title: title + String(format: " (AUC %.3f)", auc), xLabel: "1 − specificity", yLabel: "sensitivity",
                     width: 320, height: 300, yRange: 0...1)
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    private static func header(_ width: Double, _ height: Double, _ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"10\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"12\">\(escapeXML(title))</text>\n"
    }

    private static func axes(left: Double, top: Double, plotW: Double, plotH: Double) -> String {
        "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
    }

    private static func labels(width: Double, height: Double, left: Double, top: Double, plotH: Double, xLabel: String, yLabel: String) -> String {
        "<text x=\"\(f(left + (width - left) / 2))\" y=\"\(f(height - 6))\" text-anchor=\"middle\">\(escapeXML(xLabel))</text>\n"
            + "<text transform=\"translate(12 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeXML(yLabel))</text>\n"
    }
}
