import SonoMetrics
import Foundation
import SonoPipeline
import SonoBase
import SonoData
import SonoImaging

/// A model scored on a set of images: the diagnosis report (models with a classification head) and the
/// segmentation report at each image's own size (models with a segmentation output).
public struct TaskEvaluation {
    public var classification: ClassificationReport?
    public var segmentation: SegmentationReport?
    /// Per image: id, true class, predicted class and its probability (classifiers).
    public var predictions: [TaskPrediction]
    public var skipped: [SkippedSample]

    public var figures: TaskTestFigures {
        TaskTestFigures(accuracy: classification?.accuracy, balancedAccuracy: classification?.balancedAccuracy,
                        macroF1: classification?.macroF1, auc: classification?.auc,
                        dice: segmentation.map { $0.lesion.dice.mean ?? $0.all.dice.mean ?? .nan })
    }

    /// One line for the log.
    public var headline: String {
        var parts: [String] = []
        if let c = classification {
            parts.append(String(format: "accuracy %.3f, balanced accuracy %.3f, macro F1 %.3f, AUC %@ on %d images", c.accuracy,
                                c.balancedAccuracy, c.macroF1, c.auc.map { String(format: "%.3f", $0) } ?? "n/a", c.samples))
        }
        if let s = segmentation {
            parts.append(String(format: "Dice %.4f on %d images", s.lesion.dice.mean ?? s.all.dice.mean ?? .nan, s.rows.count))
        }
        return parts.joined(separator: "; ")
    }
}

public struct TaskPrediction: Codable, Sendable {
    public var id: String
    public var trueClass: String
    public var predictedClass: String
    public var probability: Double
    public var probabilities: [Double]
}

/// Scores `model` on `samples`: one forward pass per image at the model's input size; class probabilities
/// against the samples' classes, lesion probabilities mapped back to the image's size against its mask.
///
/// A lesion-crop classifier's window comes from `lesions` (the segmenter whose mask `segment` would use) or,
/// when nil, from the ground-truth mask.
public func evaluateTask(_ model: LoadedModel, samples: [Sample], threshold: Float? = nil, flipTTA: Bool = false,
                         lesions: LesionSource? = nil, onError: ErrorPolicy = .fail, quiet: Bool = true) throws -> TaskEvaluation {
    let names = model.info.classNames ?? []
    let labels = model.classifies ? try classLabels(samples, classNames: names) : []
    let t = threshold ?? model.info.threshold
    var rows: [SegmentationReport.Row] = []
    var probabilities: [[Float]] = [], kept: [Int] = [], predictions: [TaskPrediction] = []
    let bar = quiet ? nil : ProgressBar(total: samples.count, label: "evaluate")
    let crop: ((LoadedSample) throws -> ImagePrediction)? = model.info.preprocess.crop == nil ? nil : { loaded in
        let window = try lesions?.mask(loaded.image) ?? loaded.mask
        return ImagePrediction(lesion: nil, classes: try model.classify(image: loaded.image, lesion: window, flipTTA: flipTTA))
    }
    let skipped = try predictSamples(model, samples, flipTTA: flipTTA, onError: onError, progress: bar, predict: crop) { i, sample, loaded, prediction in
        if let row = prediction.classes {
            probabilities.append(row); kept.append(labels[i])
            let c = ClassificationReport.argmax(row)
            predictions.append(TaskPrediction(id: sample.id, trueClass: names[labels[i]], predictedClass: names[c],
                                              probability: Double(row[c]), probabilities: row.map(Double.init)))
        }
        if let probability = prediction.lesion {
            rows.append(.init(id: sample.id, metrics: try SegmentationMetrics(probabilities: probability.pixels, truth: loaded.mask, threshold: t)))
        }
        return ""
    }
    let positive = names.firstIndex(of: "malignant") ?? 1
    let report = kept.isEmpty ? nil : try ClassificationReport(probabilities: probabilities, labels: kept, classNames: names, positiveClass: positive)
    return TaskEvaluation(classification: report, segmentation: rows.isEmpty ? nil : SegmentationReport(rows: rows),
                          predictions: predictions, skipped: skipped)
}

/// Writes classification.json (the report), predictions.csv, classification.md (table and confusion matrix)
/// and, for segmenters, the segmentation files of `writeEvaluation` (metrics.csv, metrics.json, table.md).
public func writeTaskEvaluation(_ e: TaskEvaluation, name: String, to folder: URL) throws {
    try Folders.create(folder)
    if let c = e.classification {
        try JSONFiles.write(c, to: folder.appendingPathComponent("classification.json"))
        try AtomicFile.write(Data(taskMarkdown(c, name: name).utf8), to: folder.appendingPathComponent("classification.md"))
        if let calibration = c.calibration {
            try AtomicFile.write(Data(calibration.svg(title: name).utf8), to: folder.appendingPathComponent("reliability.svg"))
        }
        var csv = "id,true_class,predicted_class,probability," + c.classNames.map { "p_\($0)" }.joined(separator: ",") + "\n"
        for p in e.predictions {
            csv += "\(p.id.contains(",") ? "\"\(p.id)\"" : p.id),\(p.trueClass),\(p.predictedClass),\(String(format: "%.4f", p.probability)),"
            csv += p.probabilities.map { String(format: "%.4f", $0) }.joined(separator: ",") + "\n"
        }
        try AtomicFile.write(Data(csv.utf8), to: folder.appendingPathComponent("predictions.csv"))
    }
    if let s = e.segmentation { try writeEvaluation(s, name: name, skipped: e.skipped, to: folder) }
    else if !e.skipped.isEmpty { try JSONFiles.write(e.skipped, to: folder.appendingPathComponent("skipped.json")) }
}

/// The headline table, per-class precision/recall/F1/AUC and the confusion matrix.
func taskMarkdown(_ c: ClassificationReport, name: String) -> String {
    var md = MetricsMarkdown.classificationTable([(name: name, report: c)]) + "\n"
    md += MetricsMarkdown.diagnosisTable([(name: name, report: c)]) + "\n"
    md += MarkdownTable(header: ["Class", "Support", "Precision", "Recall", "F1", "AUC"],
                        rows: c.perClass.map { m in
                            [m.name, String(m.support)] + [m.precision, m.recall, m.f1, m.auc].map { MarkdownTable.value($0, digits: 3) }
                        }).render() + "\n"
    return md + MetricsMarkdown.confusionMatrix(c)
}

/// Where a lesion-crop classifier's window comes from at evaluation: a segmenter's mask, as in `segment`.
public struct LesionSource {
    public var segmenter: Segmenter
    /// As `segment` makes its mask by default (the classifier takes the largest region's window).
    public var postprocessing = SegmentOptions().postprocessing
    public init(_ segmenter: Segmenter) { self.segmenter = segmenter }

    public func mask(_ image: GrayImage) throws -> Mask {
        let p = try segmenter.predict(image: image, flipTTA: false)
        guard let lesion = p.lesion else { throw PipelineError.invalidConfig("\(segmenter.url.path) does not segment") }
        return mask(from: lesion)
    }

    /// The mask of a probability map the segmenter already gave.
    public func mask(from probability: GrayImage) -> Mask { postprocessing.mask(from: probability, threshold: segmenter.threshold) }
}
