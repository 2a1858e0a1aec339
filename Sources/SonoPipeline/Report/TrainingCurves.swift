import Foundation
import SonoBase

/// A run's `log.jsonl` as pictures (nnU-Net's progress.png, as SVG): losses, the validation figures each
/// trainer logs (Dice, accuracy, balanced accuracy, AUC, score), and the learning rate. Read as plain JSON so
/// every trainer's log draws the same way.
public enum TrainingCurves {
    /// The curves of the log at `log`, or nil when it has no epoch yet.
    public static func svg(log: URL) -> String? {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return nil }
        let records = text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        guard !records.isEmpty else { return nil }
        func number(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }
        func series(_ name: String, colour: Int, _ value: ([String: Any]) -> Double?) -> Charts.Series? {
            let points = records.compactMap { r -> (x: Double, y: Double)? in
                guard let e = number(r["epoch"]), let v = value(r) else { return nil }
                return (e + 1, v)
            }
            return points.isEmpty ? nil : Charts.Series(name: name, points: points, colour: Charts.palette[colour])
        }
        func validation(_ key: String) -> ([String: Any]) -> Double? { { number(($0["validation"] as? [String: Any])?[key]) } }
        let losses = [series("train loss", colour: 0) { number($0["trainLoss"]) }, series("validation loss", colour: 1, validation("loss"))]
        let figures = [series("validation Dice", colour: 2, validation("dice")), series("validation accuracy", colour: 3, validation("accuracy")),
                       series("balanced accuracy", colour: 4, validation("balancedAccuracy")), series("validation AUC", colour: 5, validation("auc"))]
        let rate = [series("learning rate", colour: 0) { number($0["learningRate"]) }]
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1280\" height=\"260\">\n"
        for (k, chart) in [Charts.lines(losses.compactMap { $0 }, title: "Loss", xLabel: "epoch", yLabel: "loss"),
                           Charts.lines(figures.compactMap { $0 }, title: "Validation", xLabel: "epoch", yLabel: "score", yRange: 0...1),
                           Charts.lines(rate.compactMap { $0 }, title: "Learning rate", xLabel: "epoch", yLabel: "rate", logY: true)].enumerated() {
            s += "<g transform=\"translate(\(k * 430) 0)\">\n" + chart + "</g>\n"
        }
        return s + "</svg>\n"
    }

    /// Writes `curves.svg` beside the log (after each epoch; a failure to draw never stops training).
    static func write(log: URL) {
        guard let svg = svg(log: log) else { return }
        try? AtomicFile.write(Data(svg.utf8), to: log.deletingLastPathComponent().appendingPathComponent("curves.svg"))
    }
}
