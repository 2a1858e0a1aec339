import SonoConvNets
import SonoRegistry
import SonoMetrics
import ArgumentParser
import Foundation
import SonoData
import SonoPipeline
import SonoTensor

extension ClassifyTask: ExpressibleByArgument {}
extension ClassifyModelKind: ExpressibleByArgument {}
extension ClassWeighting: ExpressibleByArgument {}
extension SamplerKind: ExpressibleByArgument {}

/// `sonoseg classify …`: Jimenez & Xu's classifiers, backbone segmenters and the multitask UResNet.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Train and evaluate diagnosis classifiers, backbone segmenters (FCN, UResNet) and the multitask UResNet.",
        subcommands: [Train.self, Evaluate.self, Grid.self])

    /// Options for a classification run; each overrides the recipe.
    struct Options: ParsableArguments {
        @Option(help: "classify, segment or multitask.") var task: ClassifyTask?
        @Option(help: "\(ClassifyModelKind.allCases.map(\.rawValue).joined(separator: ", ")).") var model: ClassifyModelKind?
        @OptionGroup var settings: SettingsOptions
        @Option(help: "Classes to leave out, comma separated (e.g. normal for benign/malignant).") var exclude: String?
        @Option(help: "Class weights: none, inverseFrequency, given.") var classWeighting: ClassWeighting?
        @Option(help: "Class weights, comma separated (implies --class-weighting given).") var classWeights: String?
        @Option(help: "Sampler: shuffle or balanced (weighted sampler).") var sampler: SamplerKind?
        @Option(help: "Multitask weight of the segmentation loss.") var segWeight: Float?
        @Option(help: "Multitask weight of the classification loss.") var clsWeight: Float?
        @Option(help: "Width of the first ResNet stage / encoder (64 in the paper).") var width: Int?

        func apply(to base: ClassifyConfig) -> ClassifyConfig {
            var c = base
            settings.apply(to: &c.settings)
            if let task { c.task = task }
            if let model { c.model.kind = model }
            if let exclude { for i in c.data.indices { c.data[i].excludeClasses = exclude.split(separator: ",").map(String.init) } }
            if let classWeighting { c.classWeighting = classWeighting }
            if let classWeights {
                c.classWeights = classWeights.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
                c.classWeighting = .given
            }
            if let sampler { c.sampler = sampler }
            if let segWeight { c.segmentationWeight = segWeight }
            if let clsWeight { c.classificationWeight = clsWeight }
            if let width { c.model.resnet.baseWidth = width; c.model.segmenter.encoder.baseWidth = width }
            return c
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a classifier, segmenter or multitask model from a recipe and/or flags.",
            discussion: """
            The run folder (--out) receives config.json, the split files, log.jsonl, last.safetensors (resumable), \
            model.safetensors (best by validation balanced accuracy / Dice / their mean; `segment --model` and \
            `classify evaluate` read it), test/ (the best model on the test part) and summary.json.
            """)
        @Argument(help: "Recipe file (JSON); flags override its values.") var recipe: String?
        @OptionGroup var options: Options
        @Option(help: "Run folder.") var out: String
        @Flag(help: "Continue the run in --out from its last checkpoint.") var resume = false
        @OptionGroup var threading: ThreadOptions

        func run() throws {
            threading.apply()
            let base = try recipe.map { try ClassifyConfig.load(URL(fileURLWithPath: $0)) } ?? ClassifyConfig()
            let s = try trainTask(options.apply(to: base), folder: URL(fileURLWithPath: out), resume: resume)
            print(String(format: "best validation score %.4f at epoch %d of %d (%.0f s); model: %@/model.safetensors",
                         s.bestValidationScore, s.bestEpoch, s.epochsRun, s.seconds, out))
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score a classification or multitask model: accuracy, balanced accuracy, per-class P/R/F1, AUC, confusion matrix; Dice for segmenters.",
            discussion: "Writes classification.json, classification.md, predictions.csv and, for segmenters, metrics.csv/json and table.md.")
        @Option(help: "Model file or run folder.") var model: String
        @OptionGroup var dataset: EvaluationDataOptions
        @Flag(help: "Test-time augmentation (horizontal flip).") var tta = false
        @Option(help: "Name of the model in the tables.") var name: String?
        @Option(help: "Output folder.") var out: String
        @Option(help: "On unreadable images: fail or skip.") var onError: ErrorPolicy = .fail
        @Option(help: ArgumentHelp("For a lesion-crop classifier: the segmenter whose mask gives the window ('default': the bundled model; without it, the ground-truth mask).", valueName: "model"))
        var cropFrom: String?
        @OptionGroup var threading: ThreadOptions

        func run() throws {
            threading.apply()
            let loaded = try LoadedModel(URL(fileURLWithPath: model))
            let lesions = try cropFrom.map { LesionSource(try loadSegmenter($0 == "default" ? DefaultModel.locate() : URL(fileURLWithPath: $0))) }
            var excluded: [String] = []
            if let names = loaded.info.classNames, loaded.classifies {   // a 2-class model is scored on its own classes
                excluded = ["benign", "malignant", "normal"].filter { !names.contains($0) }
            }
            let (samples, unlabelled) = (loaded.info.labels ?? .className).relabel(try dataset.samples(alsoExcluded: excluded))
            if unlabelled > 0 { print("left out \(unlabelled) images without a \(loaded.info.labels!.rawValue) label") }
            let e = try evaluateTask(loaded, samples: samples, flipTTA: tta, lesions: lesions, onError: onError, quiet: false)
            let label = name ?? loaded.info.recipe
            try writeTaskEvaluation(e, name: label, to: URL(fileURLWithPath: out))
            if let c = e.classification {
                print(MetricsMarkdown.classificationTable([(name: label, report: c)]))
                print(MetricsMarkdown.diagnosisTable([(name: label, report: c)]))
                print(MetricsMarkdown.confusionMatrix(c))
            }
            if let s = e.segmentation { print(MetricsMarkdown.segmentationTable([(name: label, report: s)])) }
            print("\(samples.count) images; results in \(out)/")
        }
    }

    struct Grid: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a comparison grid (e.g. recipes/classify/jimenez-xu.json) and write grid.md.",
            discussion: "Finished variants are reused; an interrupted one resumes.")
        @OptionGroup var grid: GridOptions

        func run() throws {
            print(try runTaskGrid(try TaskGridRecipe.load(grid.recipeURL), folder: grid.folder, log: stderrLog))
        }
    }
}
