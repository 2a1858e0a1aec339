import SonoConvNets
import SonoMetrics
import Foundation
import SonoPipeline
import SonoBase
import SonoData
import SonoImaging

/// A diagnosis bundle scored on held-out images, each through the segmenter as `segment` runs it.
public struct DiagnosisEvaluation: Codable, Sendable {
    /// Benign vs malignant on lesion images with a known pathology, windows from the segmenter's mask.
    public var pathology: ClassificationReport?
    /// BI-RADS category on images with one.
    public var birads: ClassificationReport?
    /// Lesion vs no lesion on every image (positive: lesion), at the bundle's threshold.
    public var presence: ClassificationReport?
    public var presenceThreshold: Double
    public var predictions: [Row]

    public struct Row: Codable, Sendable {
        public var id: String
        public var trueClass: String?
        public var trueBirads: String?
        public var hasLesion: Bool
        public var lesionProbability: Double
        public var malignancyProbability: Double?
        public var birads: String?
        public var biradsProbability: Double?
        /// `LesionShape.vector` of the segmenter's largest region (lesion images).
        public var shape: [Double]?
    }

    /// diagnosis.md (the three tables and confusion matrices), diagnosis.json, predictions.csv and a
    /// reliability diagram per classifier.
    public func write(to folder: URL, name: String) throws {
        try Folders.create(folder)
        try JSONFiles.write(self, to: folder.appendingPathComponent("diagnosis.json"))
        var md = "# \(name)\n\n"
        for (title, report, file) in [("Pathology (benign vs malignant)", pathology, "reliability-pathology.svg"),
                                      ("BI-RADS", birads, "reliability-birads.svg"),
                                      ("Lesion presence (lesion vs normal)", presence, "reliability-presence.svg")] {
            guard let report else { continue }
            md += "## \(title)\n\n" + MetricsMarkdown.classificationTable([(name: name, report: report)]) + "\n"
            md += MetricsMarkdown.diagnosisTable([(name: name, report: report)]) + "\n" + MetricsMarkdown.confusionMatrix(report) + "\n"
            if let c = report.calibration {
                try AtomicFile.write(Data(c.svg(title: title).utf8), to: folder.appendingPathComponent(file))
                md += "![reliability](\(file))\n\n"
            }
        }
        try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("diagnosis.md"))
        func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "" }
        var csv = "id,true_class,true_birads,has_lesion,lesion_probability,malignancy_probability,birads,birads_probability\n"
        for r in predictions {
            csv += [CSVField.escape(r.id), r.trueClass ?? "", r.trueBirads ?? "", String(r.hasLesion), f(r.lesionProbability),
                    f(r.malignancyProbability), r.birads ?? "", f(r.biradsProbability)].joined(separator: ",") + "\n"
        }
        try AtomicFile.write(Data(csv.utf8), to: folder.appendingPathComponent("predictions.csv"))
    }
}

/// Scores `diagnoser` on `images` with `segmenter` giving each image's map and mask.
public func evaluateDiagnosis(_ diagnoser: Diagnoser, segmenter: Segmenter, images: [DiagnosisImages],
                              log: (String) -> Void) throws -> DiagnosisEvaluation {
    var rows: [DiagnosisEvaluation.Row] = []
    var pathology: ([[Float]], [Int]) = ([], []), birads: ([[Float]], [Int]) = ([], []), presence: ([[Float]], [Int]) = ([], [])
    let biradsNames = diagnoser.biradsClasses ?? []
    let windows = LesionSource(segmenter)   // the mask as `segment` makes it
    for set in images {
        let samples = try set.samples()
        log("\(set.path) \(set.part.rawValue): \(samples.count) images")
        _ = try predictSamples(segmenter, samples, flipTTA: false, onError: .fail,
                               progress: ProgressBar(total: samples.count, label: "diagnose")) { _, sample, loaded, prediction in
            let probability = prediction.lesion!
            let mask = windows.mask(from: probability)
            let d = try diagnoser.diagnose(image: loaded.image, probability: probability, mask: mask)
            let hasLesion = !loaded.mask.isEmpty
            presence.0.append([Float(1 - d.lesionProbability), Float(d.lesionProbability)]); presence.1.append(hasLesion ? 1 : 0)
            var row = DiagnosisEvaluation.Row(id: sample.id, trueClass: sample.className, trueBirads: sample.birads, hasLesion: hasLesion,
                                              lesionProbability: d.lesionProbability)
            // The classifiers are scored on every lesion image, whatever presence said, so each figure is its own.
            if hasLesion {
                let c = try diagnoser.classifyLesion(image: loaded.image, mask: mask)
                if let k = diagnoser.pathologyClasses.firstIndex(of: sample.className ?? "") {
                    pathology.0.append(c.pathology); pathology.1.append(k)
                }
                row.malignancyProbability = Double(c.pathology[diagnoser.pathologyClasses.firstIndex(of: "malignant")!])
                row.shape = LesionShape(image: loaded.image, mask: mask)?.vector
                if let b = c.birads {
                    let top = ClassificationReport.argmax(b)
                    (row.birads, row.biradsProbability) = (biradsNames[top], Double(b[top]))
                    if let grade = sample.birads?.first.map(String.init), let k = biradsNames.firstIndex(of: grade) {
                        birads.0.append(b); birads.1.append(k)
                    }
                }
            }
            rows.append(row)
            return ""
        }
    }
    func report(_ v: ([[Float]], [Int]), _ names: [String], positive: Int) throws -> ClassificationReport? {
        v.1.isEmpty || Set(v.1).count < 2 ? nil : try ClassificationReport(probabilities: v.0, labels: v.1, classNames: names, positiveClass: positive)
    }
    let t = diagnoser.manifest.presence.threshold
    // Presence at the bundle's threshold: the argmax of [1 − p, p] calls at 0.5, so shift both columns.
    let shifted = (presence.0.map { [Float(t), $0[1]] }, presence.1)
    let pathologyNames = diagnoser.pathologyClasses
    return DiagnosisEvaluation(
        pathology: try report(pathology, pathologyNames, positive: pathologyNames.firstIndex(of: "malignant") ?? 1),
        birads: try report(birads, biradsNames, positive: 0),
        presence: try report(shifted, ["no lesion", "lesion"], positive: 1).map { r in
            var r = r
            r.calibration = Calibration(probabilities: presence.0, labels: presence.1)
            return r
        },
        presenceThreshold: t, predictions: rows)
}

/// Variant (e) of the diagnosis study: the pathology ensemble's logit plus the lesion's shape (`LesionShape`) in
/// a logistic regression fitted on one evaluation (the validation images) and scored on another (the test
/// images), beside the ensemble alone.
public struct ShapeHeadStudy: Sendable {
    /// 5-fold cross-validated AUC on the fitting images: the ensemble logit alone, and with the shape features.
    public var crossValidatedAUC: (logitOnly: Double, withShape: Double)
    public var fitted: LogisticRegression
    /// Scored on the other images.
    public var ensemble: ClassificationReport
    public var withShape: ClassificationReport

    static func rows(_ e: DiagnosisEvaluation) -> [(x: [Double], malignant: Bool)] {
        e.predictions.compactMap { r in
            guard let p = r.malignancyProbability, let shape = r.shape, ["benign", "malignant"].contains(r.trueClass ?? "") else { return nil }
            return ([PresenceFeatures.logit(Float(p))] + shape, r.trueClass == "malignant")
        }
    }

    public init(fit on: DiagnosisEvaluation, score: DiagnosisEvaluation) throws {
        let train = Self.rows(on), test = Self.rows(score)
        guard train.count >= 20, Set(train.map(\.malignant)).count == 2 else {
            throw PipelineError.invalidConfig("the shape head needs at least 20 benign and malignant lesion images to fit on, got \(train.count)")
        }
        func cvAUC(_ columns: Int) -> Double {
            var probabilities = [Double](repeating: 0, count: train.count)
            for fold in 0..<5 {
                let held = train.indices.filter { $0 % 5 == fold }, kept = train.indices.filter { $0 % 5 != fold }
                let m = LogisticRegression.fit(kept.map { Array(train[$0].x.prefix(columns)) }, labels: kept.map { train[$0].malignant })
                for i in held { probabilities[i] = m.probability(Array(train[i].x.prefix(columns))) }
            }
            return MannWhitneyAUC.auc(scores: probabilities.map(Float.init), positives: train.map(\.malignant)) ?? .nan
        }
        crossValidatedAUC = (cvAUC(1), cvAUC(train[0].x.count))
        let model = LogisticRegression.fit(train.map(\.x), labels: train.map(\.malignant))
        fitted = model
        let labels = test.map { $0.malignant ? 1 : 0 }
        ensemble = try ClassificationReport(probabilities: test.map { let p = Float(1 / (1 + exp(-$0.x[0]))); return [1 - p, p] },
                                            labels: labels, classNames: ["benign", "malignant"], positiveClass: 1)
        withShape = try ClassificationReport(probabilities: test.map { let p = Float(model.probability($0.x)); return [1 - p, p] },
                                             labels: labels, classNames: ["benign", "malignant"], positiveClass: 1)
    }

    /// shape-head.md in `folder`, atomically.
    public func write(to folder: URL) throws {
        try AtomicFile.write(Data(markdown.utf8), to: folder.appendingPathComponent("shape-head.md"))
    }

    public var markdown: String {
        var md = "## Variant (e): ensemble logit + lesion shape (logistic regression)\n\n"
        md += String(format: "Fitted on the first evaluation's lesion images; 5-fold cross-validated AUC there: ensemble logit alone %.3f, with shape %.3f.\n\n",
                     crossValidatedAUC.logitOnly, crossValidatedAUC.withShape)
        md += "Weights (standardised features): " + zip(["ensembleLogit"] + LesionShape.names, fitted.weights)
            .map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", ") + "\n\n"
        md += MetricsMarkdown.diagnosisTable([(name: "ensemble", report: ensemble), (name: "ensemble + shape", report: withShape)]) + "\n"
        return md
    }
}
