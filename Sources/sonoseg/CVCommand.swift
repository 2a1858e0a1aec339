import SonoConvNets
import SonoRegistry
import SonoMetrics
import ArgumentParser
import Foundation
import SonoPipeline

struct CVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "k-fold cross-validation (one model per fold, mean ± std across folds), or leave-one-dataset-out.",
        discussion: """
        Writes fold-K/ run folders, cv.json and cv.md (Li et al. Table 1 format). Finished folds are kept; --resume continues an interrupted fold.
        --leave-out dataset (a recipe with two or more datasets): for each dataset D, trains on the others (their split files' \
        training and validation parts, as the recipe does; never D) into without-D/, scores the best model on D's test part \
        (--part all: every image of D; the recipe's excludeClasses apply) into without-D/left-out-D/, and writes lodo.json and \
        lodo.md (Dice and HD95 over lesion images with 95% bootstrap intervals). Finished directions are kept; --resume continues.
        """)

    @Argument(help: "Recipe file (JSON); flags override its values.") var recipe: String?
    @OptionGroup var options: TrainingOptions
    @Option(help: "Number of folds.") var folds = 5
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Continue interrupted folds or directions.") var resume = false
    @Option(help: "Leave out a whole dataset instead of a fold: dataset.") var leaveOut: LeaveOutUnit?
    @Option(help: "With --leave-out dataset: score the left-out dataset's test part or all of it.") var part: LeftOutPart = .test

    enum LeaveOutUnit: String, ExpressibleByArgument { case dataset }

    func run() throws {
        let base = try recipe.map { try TrainConfig.load(URL(fileURLWithPath: $0)) } ?? TrainConfig()
        let log = stderrLog
        if leaveOut == .dataset {
            let summary = try leaveOneDatasetOut(options.apply(to: base), part: part, folder: URL(fileURLWithPath: out), resume: resume, log: log)
            print(summary.markdown)
            return
        }
        let summary = try crossValidate(options.apply(to: base), folds: folds, folder: URL(fileURLWithPath: out), resume: resume, log: log)
        print(MetricsMarkdown.crossValidationTable([(name: base.name, summary: summary)]))
    }
}

struct GridCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "Run an ablation grid recipe and write one comparison table (grid.md).",
        discussion: "Variants that finished are reused; an interrupted one resumes. See recipes/grids/ for the papers' tables.")

    @OptionGroup var grid: GridOptions

    func run() throws {
        print(try runGrid(try GridRecipe.load(grid.recipeURL), folder: grid.folder, log: stderrLog))
    }
}

extension LeftOutPart: ExpressibleByArgument {}
