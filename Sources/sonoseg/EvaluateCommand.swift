import SonoRegistry
import SonoMetrics
import ArgumentParser
import Foundation
import SonoData
import SonoPipeline

extension EvaluationPart: ExpressibleByArgument {}
extension DatasetLayout: ExpressibleByArgument {}

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a model on a dataset: per-image metrics, mean ± std and 95% bootstrap CI.",
        discussion: """
        Writes metrics.csv (one row per image), metrics.json (per image, aggregates for lesion images and all \
        images, normal-image false positives) and table.md (DSC, Jaccard, Precision, Recall, RMSE as in the papers). \
        Use --part all on a dataset the model never saw for zero-shot evaluation.
        """)

    @Option(help: "Model file or folder (default: the bundled model).") var model: String?
    @OptionGroup var dataset: EvaluationDataOptions
    @Option(help: "Probability threshold (default: the model's).") var threshold: Float?
    @Flag(help: "Test-time augmentation (horizontal flip).") var tta = false
    @OptionGroup var scoring: ScoringMaskOptions
    @Option(help: "Pixel spacing in mm (distances in mm).") var spacing: Double?
    @Option(help: "Name of the model in the table.") var name: String?
    @Option(help: "Output folder.") var out: String
    @Option(help: "On unreadable images: fail or skip.") var onError: ErrorPolicy = .fail
    @Flag(help: "Also write report.html: the table, the Dice histogram, the best, median and worst cases drawn.") var report = false

    func validate() throws { try validateThreshold(threshold) }

    func run() throws {
        let modelURL = try model.map { URL(fileURLWithPath: $0) } ?? DefaultModel.locate()
        let loaded = try loadSegmenter(modelURL)
        let samples = try dataset.samples()
        let e = try evaluate(loaded, samples: samples, threshold: threshold, flipTTA: tta, postprocessing: scoring.postprocessing,
                             spacing: spacing.map { PixelSpacing(isotropic: $0) }, onError: onError)
        let label = name ?? loaded.name
        let folder = URL(fileURLWithPath: out)
        try writeEvaluation(e, name: label, to: folder)
        printEvaluation(e, label: label, folder: folder)
        let report = e.report
        if self.report {
            try writeCaseOverlays(loaded, samples: samples, report: report, threshold: threshold, postprocessing: scoring.postprocessing, folder: folder)
            print("report: \(try HTMLReport.write(folder, title: label).path)")
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.html for a run or evaluation folder: tables, training curves, Dice histogram, cases, ROC, reliability.",
        discussion: "Self-contained (images inlined): it opens offline. `evaluate --report` also draws the best, median and worst cases.")
    @Argument(help: "Run folder (log.jsonl, test/) or evaluation folder (metrics.json, classification.json, diagnosis.md).") var folder: String
    @Option(help: "Title (default: the folder's name).") var title: String?

    func run() throws {
        print(try HTMLReport.write(URL(fileURLWithPath: folder), title: title).path)
    }
}

/// The tables `evaluate` prints: segmentation, then each class answer the model gave.
func printEvaluation(_ e: Evaluation, label: String, folder: URL) {
    print(MetricsMarkdown.segmentationTable([(name: label, report: e.report)]))
    for (title, r) in [("pathology by the model's head", e.classHead), ("BI-RADS by latent search", e.biradsBySearch),
                       ("pathology by latent search", e.pathologyBySearch)] {
        guard let r else { continue }
        print("\(title):\n" + MetricsMarkdown.classificationTable([(name: label, report: r)]))
    }
    print(String(format: "%d images, %.2f s per image; per-image metrics in %@/metrics.csv", e.report.rows.count, e.secondsPerImage, folder.path))
}
