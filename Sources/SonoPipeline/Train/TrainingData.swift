import Foundation
import SonoMetrics
import SonoData

/// The samples of a run, partitioned by the split files of its datasets. Ids are prefixed with the dataset's
/// index when a run combines several datasets, so they stay unique.
public struct TrainingData {
    public var train: [Sample] = []
    public var validation: [Sample] = []
    public var test: [Sample] = []
    /// Per dataset: where its split file is.
    public var splitFiles: [String] = []

    /// Reads every dataset, drops excluded classes, loads or creates each split (written beside the run when
    /// the source names none) and gathers the partitions. `fold` picks a cross-validation fold as validation.
    public static func prepare(_ config: TrainingSettings, runFolder: URL, log: (String) -> Void = { _ in }) throws -> TrainingData {
        var out = TrainingData()
        for (index, source) in config.data.enumerated() {
            var dataset = try Dataset.read(URL(fileURLWithPath: source.path), layout: source.layout)
            let excluded = Set(source.excludeClasses)
            dataset.samples.removeAll { excluded.contains($0.className ?? "") }
            guard !dataset.samples.isEmpty else {
                throw PipelineError.emptyDataset("\(source.path): no images left after excluding \(source.excludeClasses)")
            }
            let splitURL = source.split.map { URL(fileURLWithPath: $0) }
                ?? runFolder.appendingPathComponent("split-\(index).json")
            let (split, created) = try SplitStore.loadOrCreate(splitURL, dataset: dataset, configuration: config.split)
            log("\(source.path): \(dataset.layout.rawValue), \(dataset.samples.count) images; split \(created ? "created" : "loaded") at \(splitURL.path)")
            // What the reader left out (an image without its mask, a mask without its image, …) is said, not dropped
            // in silence; `sonoseg dataset inspect` lists every file.
            let leftOut = Dictionary(grouping: dataset.problems, by: \.kind)
            for (kind, problems) in leftOut.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                log("\(source.path): \(problems.count) × \(kind.rawValue), e.g. \(problems[0].message) (`sonoseg dataset inspect` lists them)")
            }
            out.splitFiles.append(splitURL.path)
            let (trainIDs, validationIDs): ([String], [String])
            // A k-fold split holds folds instead of train/validation: validate on `fold` (default 0).
            if config.fold != nil || split.train.isEmpty {
                (trainIDs, validationIDs) = try split.partition(fold: config.fold ?? 0)
            } else {
                (trainIDs, validationIDs) = (split.train, split.validation)
            }
            let byID = Dictionary(uniqueKeysWithValues: dataset.samples.map { ($0.id, $0) })
            func pick(_ ids: [String]) -> [Sample] {
                ids.compactMap { byID[$0] }.map { s in
                    var s = s
                    if config.data.count > 1 { s.id = "\(index):\(s.id)" }
                    return s
                }
            }
            let train = pick(trainIDs)
            for _ in 0..<source.repeats { out.train += train }
            out.validation += pick(validationIDs)
            out.test += pick(split.test)
        }
        return out
    }
}
