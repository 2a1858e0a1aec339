import Foundation
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
public func evaluateDiagnosis(_ diagnoser: Diagnoser, segmenter: ImagePredictor, images: [DiagnosisImages],
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
