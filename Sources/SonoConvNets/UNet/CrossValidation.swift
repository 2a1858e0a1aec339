import SonoMetrics
import Foundation
import SonoPipeline
import SonoBase

/// Trains one model per fold (fold k validates on partition k of the split) and gathers the folds'
/// validation metrics as mean ± std across folds (Li et al., Table 1).
public func crossValidate(_ config: TrainConfig, folds: Int, folder: URL, resume: Bool,
                          log: @escaping (String) -> Void) throws -> CrossValidationSummary {
    var aggregates: [SegmentationAggregate] = []
    var first = config
    first.split.folds = max(folds, 2)
    for k in 0..<folds {
        var c = first
        c.fold = k
        let foldFolder = folder.appendingPathComponent("fold-\(k)")
        // All folds share one split file: the first fold writes it, the others read it.
        for i in c.data.indices where c.data[i].split == nil {
            c.data[i].split = folder.appendingPathComponent("split-\(i).json").path
        }
        let done = FileManager.default.fileExists(atPath: foldFolder.appendingPathComponent("validation/metrics.json").path)
        if !done {
            try Folders.create(folder)
            let alreadyStarted = FileManager.default.fileExists(atPath: RunFolder(foldFolder).last.path)
            log("fold \(k + 1)/\(folds)")
            _ = try train(c, folder: foldFolder, resume: resume && alreadyStarted, log: log)
            let data = try TrainingData.prepare(c, runFolder: foldFolder)
            let model = try LoadedModel(RunFolder(foldFolder).best)
            let e = try evaluate(model, samples: data.validation, onError: c.onError); let (report, skipped) = (e.report, e.skipped)
            try writeEvaluation(report, name: "\(c.name) fold \(k)", skipped: skipped, to: foldFolder.appendingPathComponent("validation"))
        }
        let json = try Data(contentsOf: foldFolder.appendingPathComponent("validation/metrics.json"))
        aggregates.append(try SegmentationReport.decode(json: json).lesion)
    }
    let summary = CrossValidationSummary(folds: aggregates)
    try JSONFiles.write(summary, to: folder.appendingPathComponent("cv.json"))
    let md = MetricsMarkdown.crossValidationTable([(name: config.name, summary: summary)])
    try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("cv.md"))
    return summary
}
