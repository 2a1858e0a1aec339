import Foundation
import SonoBase
import SonoData
import SonoImaging

/// Which images of a dataset to evaluate on.
public enum EvaluationPart: String, Codable, Sendable, CaseIterable {
    /// The split's held-out test images.
    case test
    /// The split's validation images (fold 0 for k-fold splits).
    case validation
    /// Every image (zero-shot evaluation on a dataset the model never saw).
    case all
}

/// Segments each sample at the model's input size, maps the probabilities back to the image's own size and
/// scores them there against the ground truth, so figures do not depend on the model's resolution.
public func evaluate(_ model: ImagePredictor, samples: [Sample], threshold: Float? = nil, flipTTA: Bool = false,
                     postprocessing: MaskPostprocessing = MaskPostprocessing(), spacing: PixelSpacing? = nil, onError: ErrorPolicy = .fail,
                     log: (String) -> Void = { _ in }) throws -> (report: SegmentationReport, skipped: [SkippedSample]) {
    guard model.segments else {
        throw PipelineError.invalidConfig("\(model.url.path) is a classifier without a segmentation output; use `sonoseg classify evaluate`")
    }
    let t = threshold ?? model.threshold
    var rows: [SegmentationReport.Row] = []
    let skipped = try predictSamples(model, samples, flipTTA: flipTTA, onError: onError,
                                     progress: ProgressBar(total: samples.count, label: "evaluate")) { _, sample, loaded, prediction in
        let probability = prediction.lesion!
        let metrics = try SegmentationMetrics(probabilities: probability.pixels, prediction: postprocessing.mask(from: probability, threshold: t),
                                              truth: loaded.mask, threshold: t, spacing: spacing)
        rows.append(.init(id: sample.id, metrics: metrics))
        return String(format: "Dice %.3f", rows.map(\.metrics.dice).reduce(0, +) / Double(rows.count))
    }
    if !skipped.isEmpty { log("skipped \(skipped.count) unreadable samples (listed in the report folder)") }
    return (SegmentationReport(rows: rows), skipped)
}

/// The one evaluation loop, for every predictor: each sample is loaded (an unreadable one is thrown or, with
/// `onError: skip`, listed and left out), predicted at the model's input size and mapped back to the image's
/// own size, and handed to `score` with its index; `score` returns the progress bar's figures.
/// `predict` replaces the model's own call where the input is more than the image (a lesion-crop classifier).
func predictSamples(_ model: ImagePredictor, _ samples: [Sample], flipTTA: Bool, onError: ErrorPolicy, progress: ProgressBar?,
                    predict: ((LoadedSample) throws -> ImagePrediction)? = nil,
                    score: (Int, Sample, LoadedSample, ImagePrediction) throws -> String) throws -> [SkippedSample] {
    var skipped: [SkippedSample] = []
    for (i, sample) in samples.enumerated() {
        let loaded: LoadedSample
        do { loaded = try sample.load() } catch {
            if onError == .fail { throw error }
            skipped.append(SkippedSample(id: sample.id, path: sample.imageURL.path, reason: "\(error)"))
            continue
        }
        let prediction = try predict?(loaded) ?? model.predict(image: loaded.image, flipTTA: flipTTA)
        let figures = try score(i, sample, loaded, prediction)
        progress?.update(i + 1, figures)
    }
    return skipped
}

/// The samples of `part` in the dataset at `path` (with `split` for test/validation).
public func evaluationSamples(path: String, layout: DatasetLayout? = nil, split: String?, part: EvaluationPart,
                              excludeClasses: [String] = []) throws -> [Sample] {
    var dataset = try Dataset.read(URL(fileURLWithPath: path), layout: layout)
    let excluded = Set(excludeClasses)
    dataset.samples.removeAll { excluded.contains($0.className ?? "") }
    if part == .all { return dataset.samples }
    guard let split else {
        throw PipelineError.invalidConfig("evaluating the \(part.rawValue) part of \(path) needs --split (the run's split file)")
    }
    let s = try SplitStore.load(URL(fileURLWithPath: split), dataset: dataset)
    let ids = part == .test ? s.test : (s.train.isEmpty && !s.folds.isEmpty ? s.folds[0] : s.validation)
    let byID = Dictionary(uniqueKeysWithValues: dataset.samples.map { ($0.id, $0) })
    return ids.compactMap { byID[$0] }
}

/// Writes metrics.csv (per image), metrics.json (everything) and table.md (the papers' table shape).
public func writeEvaluation(_ report: SegmentationReport, name: String, skipped: [SkippedSample], to folder: URL) throws {
    try Folders.create(folder)
    try AtomicFile.write(Data(report.csv().utf8), to: folder.appendingPathComponent("metrics.csv"))
    try AtomicFile.write(try report.json(), to: folder.appendingPathComponent("metrics.json"))
    var md = MetricsMarkdown.segmentationTable([(name: name, report: report)])
    md += "\n" + MetricsMarkdown.segmentationTable([(name: name, report: report)], columns: [.hd95, .assd, .specificity, .auc])
    try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("table.md"))
    if !skipped.isEmpty { try JSONFiles.write(skipped, to: folder.appendingPathComponent("skipped.json")) }
}
