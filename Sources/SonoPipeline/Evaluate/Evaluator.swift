import SonoMetrics
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

/// What `evaluate` measured: per-image segmentation metrics and, where the model answers classes itself (a task
/// model's head, an implicit network's code head or latent search) and the samples carry labels, how well.
public struct Evaluation {
    public var report: SegmentationReport
    public var skipped: [SkippedSample]
    /// The model's own head against the samples' pathology (or class).
    public var classHead: ClassificationReport?
    /// A conditioned implicit network's latent search against the samples' BI-RADS and pathology.
    public var biradsBySearch: ClassificationReport?
    public var pathologyBySearch: ClassificationReport?
    public var secondsPerImage: Double
}

/// Segments each sample with any `Segmenter`, at each image's own size, and scores it there against the ground
/// truth, so figures do not depend on the model's resolution or family.
public func evaluate(_ model: Segmenter, samples: [Sample], threshold: Float? = nil, flipTTA: Bool = false,
                     postprocessing: MaskPostprocessing = MaskPostprocessing(), spacing: PixelSpacing? = nil, onError: ErrorPolicy = .fail,
                     log: (String) -> Void = { _ in }) throws -> Evaluation {
    guard model.segments else {
        throw PipelineError.invalidConfig("\(model.url.path) is a classifier without a segmentation output; use `sonoseg classify evaluate`")
    }
    let t = threshold ?? model.threshold
    var rows: [SegmentationReport.Row] = []
    /// Predicted distributions and label indices of one kind of class answer.
    struct Answers { var names: [String]; var probabilities: [[Float]] = []; var labels: [Int] = [] }
    var head: Answers? = model.classNames.map { Answers(names: $0) }, birads: Answers?, pathology: Answers?
    func add(_ answers: inout Answers?, _ a: ClassAnswer?, label: String?) {
        guard let a, let i = ClassLabels.index(of: label, in: a.names) else { return }
        if answers == nil { answers = Answers(names: a.names) }
        answers!.probabilities.append(a.probabilities); answers!.labels.append(i)
    }
    let started = Date()
    let skipped = try predictSamples(model, samples, flipTTA: flipTTA, onError: onError,
                                     progress: ProgressBar(total: samples.count, label: "evaluate")) { _, sample, loaded, prediction in
        let probability = prediction.lesion!
        let metrics = try SegmentationMetrics(probabilities: probability.pixels, prediction: postprocessing.mask(from: probability, threshold: t),
                                              truth: loaded.mask, threshold: t, spacing: spacing)
        rows.append(.init(id: sample.id, metrics: metrics))
        let pathologyLabel = sample.pathology ?? sample.className
        add(&head, prediction.classes.flatMap { p in model.classNames.map { ClassAnswer(names: $0, probabilities: p) } }, label: pathologyLabel)
        add(&birads, prediction.biradsBySearch, label: sample.birads)
        add(&pathology, prediction.pathologyBySearch, label: pathologyLabel)
        return String(format: "Dice %.3f", rows.map(\.metrics.dice).reduce(0, +) / Double(rows.count))
    }
    if !skipped.isEmpty { log("skipped \(skipped.count) unreadable samples (listed in the report folder)") }
    func report(_ a: Answers?, positive: String) throws -> ClassificationReport? {
        guard let a, !a.labels.isEmpty else { return nil }
        return try ClassificationReport(probabilities: a.probabilities, labels: a.labels, classNames: a.names,
                                        positiveClass: a.names.firstIndex(of: positive) ?? a.names.count - 1)
    }
    return Evaluation(report: SegmentationReport(rows: rows), skipped: skipped, classHead: try report(head, positive: "malignant"),
                      biradsBySearch: try report(birads, positive: ""), pathologyBySearch: try report(pathology, positive: "malignant"),
                      secondsPerImage: Date().timeIntervalSince(started) / Double(max(rows.count, 1)))
}

/// The one evaluation loop, for every model: each sample is loaded (an unreadable one is thrown or, with
/// `onError: skip`, listed and left out), predicted at each image's own size `model.preferredBatch` at a time,
/// and handed to `score` with its index; `score` returns the progress bar's figures.
/// `predict` replaces the model's own call where the input is more than the image (a lesion-crop classifier).
public func predictSamples(_ model: Segmenter, _ samples: [Sample], flipTTA: Bool, onError: ErrorPolicy, progress: ProgressBar?,
                    predict: ((LoadedSample) throws -> ImagePrediction)? = nil,
                    score: (Int, Sample, LoadedSample, ImagePrediction) throws -> String) throws -> [SkippedSample] {
    var skipped: [SkippedSample] = []
    var pending: [(Int, Sample, LoadedSample)] = []
    func flush() throws {
        guard !pending.isEmpty else { return }
        let predictions = try predict.map { p in try pending.map { try p($0.2) } }
            ?? model.predict(pending.map(\.2.image), flipTTA: flipTTA)
        for ((i, sample, loaded), prediction) in zip(pending, predictions) {
            let figures = try score(i, sample, loaded, prediction)
            progress?.update(i + 1, figures)
        }
        pending.removeAll()
    }
    for (i, sample) in samples.enumerated() {
        do { pending.append((i, sample, try sample.load())) } catch {
            if onError == .fail { throw error }
            skipped.append(SkippedSample(id: sample.id, path: sample.imageURL.path, reason: "\(error)"))
            continue
        }
        if pending.count >= (predict == nil ? model.preferredBatch : 1) { try flush() }
    }
    try flush()
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

/// Writes metrics.csv (per image), metrics.json (everything) and table.md (the papers' table shape), and where
/// the model answered classes, class-head.json, birads-by-search.json, pathology-by-search.json and
/// classification.md.
public func writeEvaluation(_ e: Evaluation, name: String, to folder: URL) throws {
    try writeEvaluation(e.report, name: name, skipped: e.skipped, to: folder)
    var md = ""
    for (label, file, report) in [("pathology by the model's head", "class-head.json", e.classHead),
                                  ("BI-RADS by latent search", "birads-by-search.json", e.biradsBySearch),
                                  ("pathology by latent search", "pathology-by-search.json", e.pathologyBySearch)] {
        guard let report else { continue }
        try JSONFiles.write(report, to: folder.appendingPathComponent(file))
        md += "## \(label)\n\n" + MetricsMarkdown.classificationTable([(name: name, report: report)]) + "\n"
            + MetricsMarkdown.confusionMatrix(report) + "\n"
    }
    if !md.isEmpty { try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("classification.md")) }
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
