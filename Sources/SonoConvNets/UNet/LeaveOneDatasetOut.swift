import SonoMetrics
import Foundation
import SonoPipeline
import SonoBase

/// Which images of the left-out dataset a leave-one-dataset-out direction is scored on.
public enum LeftOutPart: String, Codable, Sendable, CaseIterable {
    /// The `test` part of the dataset's split file (what the in-domain figures use).
    case test
    /// Every image of the dataset (after its `excludeClasses`).
    case all
}

/// One direction of a leave-one-dataset-out evaluation: a model trained on every dataset but one, scored on that one.
public struct LeaveOutDirection: Codable, Sendable {
    /// The run folder's name, `without-NAME`.
    public var name: String
    /// The left-out dataset's folder.
    public var leftOut: String
    /// The datasets the model trained and validated on (their split files' training and validation parts).
    public var trainedOn: [String]
    /// Which images of the left-out dataset were scored, and how many (lesion images for Dice).
    public var part: LeftOutPart
    public var images: Int
    public var lesionImages: Int
    /// Over the left-out dataset's lesion images: Dice and HD95 (pixels at each image's own size, as
    /// `sonoseg evaluate` reports it without a spacing), each with its 95% bootstrap interval of the mean.
    public var dice: MetricSummary
    public var hd95: MetricSummary
    /// The model's mean Dice on the test parts of the datasets it trained on (in-domain), from its run.
    public var inDomainTestDice: Double?
    public var epochsRun: Int
    public var bestEpoch: Int
    public var trainSeconds: Double
}

/// Every direction of a leave-one-dataset-out evaluation (`lodo.json`).
public struct LeaveOutSummary: Codable, Sendable {
    public var recipe: String
    public var epochs: Int
    public var directions: [LeaveOutDirection]

    /// `lodo.md`: one row per direction, Dice and HD95 with their 95% bootstrap intervals.
    public var markdown: String {
        func ci(_ s: MetricSummary, digits: Int) -> String {
            guard let mean = s.mean else { return MarkdownTable.missing }
            let v = MarkdownTable.value(mean, digits: digits)
            guard let lo = s.ciLower, let hi = s.ciUpper else { return v }
            return "\(v) (\(MarkdownTable.value(lo, digits: digits))–\(MarkdownTable.value(hi, digits: digits)))"
        }
        func base(_ path: String) -> String { URL(fileURLWithPath: path).lastPathComponent }
        let table = MarkdownTable(
            header: ["Direction", "Trained on", "Scored on", "Lesion images", "Dice (95% CI)", "HD95 px (95% CI)",
                     "In-domain test Dice", "Epochs (best)", "Training"],
            rows: directions.map { d in
                [d.name, d.trainedOn.map(base).joined(separator: " + "), "\(base(d.leftOut)) (\(d.part.rawValue))",
                 "\(d.lesionImages)", ci(d.dice, digits: 3), ci(d.hd95, digits: 1),
                 MarkdownTable.value(d.inDomainTestDice, digits: 3), "\(d.epochsRun) (\(d.bestEpoch))",
                 String(format: "%.1f min", d.trainSeconds / 60)]
            })
        return "Leave-one-dataset-out, recipe \(recipe), \(epochs) epochs\n\n" + table.render()
    }
}

/// The name a dataset's direction folder gets: its folder's name, lower-cased, other than letters, digits and `-`
/// turned into `-`.
func datasetName(_ path: String) -> String {
    let raw = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent.lowercased()
    let name = String(raw.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
    return name.isEmpty ? "dataset" : name
}

/// Leave-one-dataset-out: for each of the recipe's datasets D, trains the recipe on the others (their split
/// files' training and validation parts, exactly as the recipe would; D is not in the run's data at all) into
/// `folder/without-D/`, then scores the best model on D's `part` into `folder/without-D/left-out-D/` (`left-out-D-all/`
/// for every image, so both can share the trained directions). A dataset
/// without a split file gets one in `folder` (shared by both of its roles). Finished directions are kept;
/// `resume` continues an interrupted run from its `last.safetensors`; a finished direction trained with another
/// configuration is an error, never mixed into the table. Writes `lodo.json` and `lodo.md`.
public func leaveOneDatasetOut(_ config: TrainConfig, part: LeftOutPart = .test, folder: URL, resume: Bool,
                               log: @escaping (String) -> Void) throws -> LeaveOutSummary {
    guard config.data.count >= 2 else {
        throw PipelineError.invalidConfig("--leave-out dataset needs a recipe with two or more datasets in `data` (it has \(config.data.count))")
    }
    var names = config.data.map { datasetName($0.path) }
    for i in names.indices where names[..<i].contains(names[i]) { names[i] += "-\(i)" }
    var shared = config
    for i in shared.data.indices where shared.data[i].split == nil {
        shared.data[i].split = folder.appendingPathComponent("split-\(names[i]).json").path
    }
    try Folders.create(folder)
    var directions: [LeaveOutDirection] = []
    for (i, leftOut) in shared.data.enumerated() {
        var c = shared
        c.data.remove(at: i)
        c.name = "\(config.name)-without-\(names[i])"
        let run = folder.appendingPathComponent("without-\(names[i])")
        let scored = run.appendingPathComponent("left-out-\(names[i])" + (part == .all ? "-all" : ""))
        let metricsFile = scored.appendingPathComponent("metrics.json")
        if !FileManager.default.fileExists(atPath: metricsFile.path) {
            let started = FileManager.default.fileExists(atPath: RunFolder(run).last.path)
            log("direction \(i + 1)/\(shared.data.count): train on \(c.data.map { datasetName($0.path) }.joined(separator: " + ")), leave out \(names[i])")
            _ = try train(c, folder: run, resume: resume && started, log: log)
            var target = shared
            target.data = [leftOut]
            let parts = try TrainingData.prepare(target, runFolder: scored)
            let samples = part == .test ? parts.test : parts.train.uniqued(by: \.id) + parts.validation + parts.test
            guard !samples.isEmpty else { throw PipelineError.emptyDataset("\(leftOut.path): no \(part.rawValue) images to score") }
            let model = try LoadedModel(RunFolder(run).best)
            let e = try evaluate(model, samples: samples, onError: c.onError)
            try writeEvaluation(e.report, name: "\(c.name) on \(names[i]) (\(part.rawValue))", skipped: e.skipped, to: scored)
        }
        // A finished direction counts only if it ran this configuration (another --epochs would mislabel the table).
        guard try TrainConfig.load(RunFolder(run).config) == c else {
            throw PipelineError.invalidConfig("\(run.path) was trained with another configuration than this one; choose another --out")
        }
        let report = try SegmentationReport.decode(json: Data(contentsOf: metricsFile))
        let train = try JSONDecoder().decode(TrainSummary.self, from: Data(contentsOf: RunFolder(run).summary))
        directions.append(LeaveOutDirection(
            name: "without-\(names[i])", leftOut: leftOut.path, trainedOn: c.data.map(\.path), part: part,
            images: report.rows.count, lesionImages: report.lesion.images, dice: report.lesion.dice, hd95: report.lesion.hd95,
            inDomainTestDice: train.testDice, epochsRun: train.epochsRun, bestEpoch: train.bestEpoch, trainSeconds: train.seconds))
    }
    let summary = LeaveOutSummary(recipe: config.name, epochs: config.epochs, directions: directions)
    try JSONFiles.write(summary, to: folder.appendingPathComponent("lodo.json"))
    try AtomicFile.write(Data(summary.markdown.utf8), to: folder.appendingPathComponent("lodo.md"))
    return summary
}

private extension Array {
    /// The elements in order, each key's first only (a dataset's `repeats` list a training image more than once).
    func uniqued<K: Hashable>(by key: KeyPath<Element, K>) -> [Element] {
        var seen = Set<K>()
        return filter { seen.insert($0[keyPath: key]).inserted }
    }
}
