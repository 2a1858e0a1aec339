import Foundation
import SonoBase

/// How far predicted probabilities are from observed frequencies: the top-label reliability diagram and its
/// expected calibration error (ECE, Guo et al. 2017): samples binned by their predicted class's probability
/// into `bins` equal-width bins; ECE = Σ_b (n_b / n) · |accuracy_b − confidence_b|.
public struct Calibration: Codable, Sendable, Equatable {
    public struct Bin: Codable, Sendable, Equatable {
        /// Lower and upper edge of the confidence range.
        public var lower: Double
        public var upper: Double
        public var count: Int
        /// Mean predicted probability and fraction correct of the samples in the bin (0 when empty).
        public var confidence: Double
        public var accuracy: Double
    }

    public var bins: [Bin]
    public var ece: Double

    public init(probabilities: [[Float]], labels: [Int], bins: Int = 10) {
        var count = [Int](repeating: 0, count: bins), conf = [Double](repeating: 0, count: bins), hits = conf
        for (row, label) in zip(probabilities, labels) {
            let c = ClassificationReport.argmax(row)
            let p = Double(row[c])
            let b = min(bins - 1, max(0, Int(p * Double(bins))))
            count[b] += 1; conf[b] += p; hits[b] += c == label ? 1 : 0
        }
        let n = Double(max(1, labels.count))
        self.bins = (0..<bins).map { b in
            Bin(lower: Double(b) / Double(bins), upper: Double(b + 1) / Double(bins), count: count[b],
                confidence: count[b] > 0 ? conf[b] / Double(count[b]) : 0, accuracy: count[b] > 0 ? hits[b] / Double(count[b]) : 0)
        }
        ece = self.bins.reduce(0) { $0 + Double($1.count) / n * abs($1.accuracy - $1.confidence) }
    }

    /// The reliability diagram as a self-contained SVG: bars of observed accuracy per confidence bin against
    /// the diagonal of perfect calibration, with the ECE in the title.
    public func svg(title: String) -> String {
        let size = 320.0, pad = 40.0, plot = size - 2 * pad
        func x(_ v: Double) -> Double { pad + v * plot }
        func y(_ v: Double) -> Double { size - pad - v * plot }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size))\" height=\"\(Int(size))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(size / 2)\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">\(escapeXML(title)) — ECE \(String(format: "%.3f", ece))</text>\n"
        for b in bins where b.count > 0 {
            s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4a7fb5\" stroke=\"white\"><title>%d images: confidence %.2f, accuracy %.2f</title></rect>\n",
                        x(b.lower), y(b.accuracy), x(b.upper) - x(b.lower), y(0) - y(b.accuracy), b.count, b.confidence, b.accuracy)
        }
        s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/>\n", x(0), y(0), x(1), y(1))
        s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n", pad, pad, plot, plot)
        for t in stride(from: 0.0, through: 1.0, by: 0.25) {
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.2f</text>\n", x(t), size - pad + 14, t)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", pad - 4, y(t) + 4, t)
        }
        s += "<text x=\"\(size / 2)\" y=\"\(size - 6)\" text-anchor=\"middle\">predicted probability (confidence)</text>\n"
        s += "<text transform=\"translate(12 \(size / 2)) rotate(-90)\" text-anchor=\"middle\">observed accuracy</text>\n"
        return s + "</svg>\n"
    }
}

/// Temperature scaling (Guo et al. 2017): one positive scalar T that divides the logits, chosen to minimise the
/// negative log-likelihood of held-out labels. It changes confidence, never the predicted class.
public enum TemperatureScaling {
    /// T minimising the NLL of `labels` under softmax(logits / T), searched on log T in [0.05, 20] (golden
    /// section on a function that is convex in 1/T).
    public static func fit(logits: [[Float]], labels: [Int]) -> Float {
        func nll(_ logT: Double) -> Double {
            let t = exp(logT)
            var sum = 0.0
            for (row, label) in zip(logits, labels) {
                let z = row.map { Double($0) / t }
                let m = z.max() ?? 0
                sum += log(z.reduce(0) { $0 + exp($1 - m) }) + m - z[label]
            }
            return sum
        }
        var (a, b) = (log(0.05), log(20.0))
        let g = (sqrt(5.0) - 1) / 2
        for _ in 0..<80 {
            let c = b - g * (b - a), d = a + g * (b - a)
            if nll(c) < nll(d) { b = d } else { a = c }
        }
        return Float(exp((a + b) / 2))
    }

    /// Logits recovered from probabilities (log p, up to a constant per row, which softmax ignores).
    public static func logits(_ probabilities: [[Float]]) -> [[Float]] {
        probabilities.map { $0.map { log(max($0, 1e-12)) } }
    }

    /// softmax(logits / t) per row.
    public static func apply(_ logits: [[Float]], temperature t: Float) -> [[Float]] {
        logits.map { row in
            let z = row.map { $0 / t }, m = z.max() ?? 0
            let e = z.map { exp($0 - m) }, s = e.reduce(0, +)
            return e.map { $0 / s }
        }
    }
}

public func escapeXML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;")
}
