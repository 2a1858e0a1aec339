import SonoMetrics
import Foundation
import SonoPipeline
import SonoBase
import SonoData

/// Runs every variant (reusing finished ones, resuming interrupted ones) and writes grid.md.
/// A grid of classification recipes.
public typealias TaskGridRecipe = GridRecipeOf<ClassifyConfig>

public func runTaskGrid(_ recipe: TaskGridRecipe, folder: URL, log: @escaping (String) -> Void) throws -> String {
    var classification: [(name: String, report: ClassificationReport)] = []
    var segmentation: [(name: String, report: SegmentationReport)] = []
    var times: [String] = []
    for v in recipe.variants {
        var c = try recipe.config(v)
        for i in c.data.indices where c.data[i].split == nil {
            c.data[i].split = folder.appendingPathComponent("split-\(i).json").path   // one split for all variants
        }
        let run = RunFolder(folder.appendingPathComponent(slug(v.name)))
        if !FileManager.default.fileExists(atPath: run.summary.path) {
            log("variant \(v.name)")
            try Folders.create(folder)
            _ = try trainTask(c, folder: run.url, resume: FileManager.default.fileExists(atPath: run.last.path), log: log)
        }
        let test = run.url.appendingPathComponent("test")
        let cls = test.appendingPathComponent("classification.json"), seg = test.appendingPathComponent("metrics.json")
        if FileManager.default.fileExists(atPath: cls.path) {
            classification.append((v.name, try JSONDecoder().decode(ClassificationReport.self, from: Data(contentsOf: cls))))
        }
        if FileManager.default.fileExists(atPath: seg.path) {
            segmentation.append((v.name, try SegmentationReport.decode(json: Data(contentsOf: seg))))
        }
        if let s = try? JSONDecoder().decode(TaskTrainSummary.self, from: Data(contentsOf: run.summary)) {
            times.append("\(v.name) \(Int(s.seconds)) s, \(s.parameters) parameters")
        }
    }
    var md = "## \(recipe.name): held-out test split\n\n"
    if !classification.isEmpty { md += "### Classification\n\n" + MetricsMarkdown.classificationTable(classification) + "\n" }
    if !segmentation.isEmpty { md += "### Segmentation (lesion images)\n\n" + MetricsMarkdown.segmentationTable(segmentation) + "\n" }
    md += "Training: " + times.joined(separator: "; ") + "\n"
    try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("grid.md"))
    return md
}
