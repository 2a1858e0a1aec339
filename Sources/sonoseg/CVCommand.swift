import SonoConvNets
import SonoRegistry
import SonoMetrics
import ArgumentParser
import Foundation
import SonoPipeline

struct CVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "k-fold cross-validation: one model per fold, metrics as mean ± std across folds.",
        discussion: "Writes fold-K/ run folders, cv.json and cv.md (Li et al. Table 1 format). Finished folds are kept; --resume continues an interrupted fold.")

    @Argument(help: "Recipe file (JSON); flags override its values.") var recipe: String?
    @OptionGroup var options: TrainingOptions
    @Option(help: "Number of folds.") var folds = 5
    @Option(help: "Output folder.") var out: String
    @Flag(help: "Continue interrupted folds.") var resume = false

    func run() throws {
        let base = try recipe.map { try TrainConfig.load(URL(fileURLWithPath: $0)) } ?? TrainConfig()
        let log = stderrLog
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
