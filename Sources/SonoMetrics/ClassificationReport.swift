import Foundation
import SonoBase

/// Diagnosis quality over a set of images: predicted class probabilities against integer labels.
///
/// The predicted class of a sample is the argmax of its row (ties to the lower index, NaN never wins).
/// - accuracy = correct / samples
/// - per class c: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), with 0 for a 0/0 ratio
///   (scikit-learn's `zero_division=0`: a class never predicted has precision 0)
/// - macro precision/recall/F1: unweighted means over the classes that occur in the labels or the predictions
///   (scikit-learn's default label set), so a class absent from both cannot dilute the average
/// - balanced accuracy: mean recall over the classes that occur in the labels (scikit-learn)
/// - AUC: one-vs-rest per class, scored by that class's probability (`MannWhitneyAUC`), nil when the class is
///   absent from or the only class in the labels; macro AUC is the mean of the non-nil ones. The headline `auc`
///   is the positive class's AUC for two classes and the macro AUC otherwise.
public struct ClassificationReport: Codable, Sendable, Equatable {
    /// One class's metrics.
    public struct ClassMetrics: Codable, Sendable, Equatable {
        public var name: String
        /// Samples labelled with this class.
        public var support: Int
        /// Samples predicted as this class.
        public var predicted: Int
        public var precision: Double
        public var recall: Double
        public var f1: Double
        /// One-vs-rest ROC AUC.
        public var auc: Double?
    }

    public var classNames: [String]
    public var samples: Int
    /// `confusion[true][predicted]`: sample counts.
    public var confusion: [[Int]]
    public var perClass: [ClassMetrics]
    public var accuracy: Double
    public var balancedAccuracy: Double
    public var macroPrecision: Double
    public var macroRecall: Double
    public var macroF1: Double
    public var macroAUC: Double?
    /// Index of the positive class for two classes (default 1, e.g. malignant in benign/malignant); nil otherwise.
    public var positiveClass: Int?
    /// The positive class's AUC for two classes, the macro one-vs-rest AUC for more.
    public var auc: Double?
    /// 95% bootstrap percentile intervals (1,000 resamples of the images, fixed seed) of `auc` and
    /// `balancedAccuracy`.
    public var aucInterval: [Double]? = nil
    public var balancedAccuracyInterval: [Double]? = nil
    /// Two classes: recall of the positive class and of the other, at the predicted class (argmax, i.e. a
    /// positive probability of 0.5).
    public var sensitivity: Double? = nil
    public var specificity: Double? = nil
    /// Top-label reliability bins and expected calibration error.
    public var calibration: Calibration? = nil

    /// `probabilities[i]` holds sample i's score per class (same order as `classNames`); `labels[i]` is its
    /// true class index. `bootstrap` draws the intervals (nil: none, e.g. for a training run's per-epoch
    /// validation, which reads the point figures only).
    public init(probabilities: [[Float]], labels: [Int], classNames: [String], positiveClass: Int = 1,
                bootstrap: BootstrapSettings? = BootstrapSettings()) throws {
        try self.init(core: probabilities, labels: labels, classNames: classNames, positiveClass: positiveClass)
        let (k, n) = (classNames.count, labels.count)
        if k == 2 { (sensitivity, specificity) = (perClass[positiveClass].recall, perClass[1 - positiveClass].recall) }
        calibration = Calibration(probabilities: probabilities, labels: labels)
        guard let bootstrap, n >= 10 else { return }
        var rng = SplitMix64(seed: bootstrap.seed, label: "classification")
        var aucs: [Double] = [], balanced: [Double] = []
        for _ in 0..<bootstrap.resamples {
            let pick = (0..<n).map { _ in rng.nextIndex(below: n) }
            guard let r = try? ClassificationReport(core: pick.map { probabilities[$0] }, labels: pick.map { labels[$0] },
                                                    classNames: classNames, positiveClass: positiveClass) else { continue }
            balanced.append(r.balancedAccuracy)
            if let a = r.auc { aucs.append(a) }
        }
        aucInterval = Bootstrap.percentiles(aucs, confidence: bootstrap.confidence).map { [$0.lower, $0.upper] }
        balancedAccuracyInterval = Bootstrap.percentiles(balanced, confidence: bootstrap.confidence).map { [$0.lower, $0.upper] }
    }

    /// The point figures alone (what each bootstrap resample needs).
    private init(core probabilities: [[Float]], labels: [Int], classNames: [String], positiveClass: Int) throws {
        let k = classNames.count
        guard k >= 2 else { throw MetricsError.invalidInput("need at least two classes, got \(k)") }
        guard !labels.isEmpty else { throw MetricsError.invalidInput("no samples") }
        guard probabilities.count == labels.count else {
            throw MetricsError.sizeMismatch("\(probabilities.count) probability rows for \(labels.count) labels")
        }
        if let i = probabilities.firstIndex(where: { $0.count != k }) {
            throw MetricsError.sizeMismatch("row \(i) has \(probabilities[i].count) scores for \(k) classes")
        }
        if let i = labels.firstIndex(where: { $0 < 0 || $0 >= k }) {
            throw MetricsError.invalidInput("label \(labels[i]) of sample \(i) is not in 0..<\(k)")
        }
        if k == 2 && !(0..<2).contains(positiveClass) {
            throw MetricsError.invalidInput("positive class \(positiveClass) is not 0 or 1")
        }

        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (row, label) in zip(probabilities, labels) {
            confusion[label][ClassificationReport.argmax(row)] += 1
        }
        let n = labels.count
        var perClass = [ClassMetrics]()
        for c in 0..<k {
            let tp = confusion[c][c]
            let support = confusion[c].reduce(0, +)
            let predicted = confusion.reduce(0) { $0 + $1[c] }
            let precision = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let recall = support == 0 ? 0 : Double(tp) / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            let auc = MannWhitneyAUC.auc(scores: probabilities.map { $0[c] }, positives: labels.map { $0 == c })
            perClass.append(ClassMetrics(name: classNames[c], support: support, predicted: predicted,
                                         precision: precision, recall: recall, f1: f1, auc: auc))
        }

        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        let occurring = perClass.filter { $0.support > 0 || $0.predicted > 0 }
        let aucs = perClass.compactMap(\.auc)

        self.classNames = classNames
        samples = n
        (self.confusion, self.perClass) = (confusion, perClass)
        accuracy = Double((0..<k).reduce(0) { $0 + confusion[$1][$1] }) / Double(n)
        balancedAccuracy = mean(perClass.filter { $0.support > 0 }.map(\.recall))
        macroPrecision = mean(occurring.map(\.precision))
        macroRecall = mean(occurring.map(\.recall))
        macroF1 = mean(occurring.map(\.f1))
        macroAUC = aucs.isEmpty ? nil : mean(aucs)
        self.positiveClass = k == 2 ? positiveClass : nil
        auc = k == 2 ? perClass[positiveClass].auc : macroAUC
    }

    /// Index of the largest score; ties go to the lower index and NaN never wins.
    public static func argmax(_ row: [Float]) -> Int {
        var best = 0
        var bestScore = -Float.infinity
        for (i, score) in row.enumerated() where score > bestScore {
            best = i
            bestScore = score
        }
        return best
    }
}
