import SonoConvNets
import ArgumentParser
import Foundation
import SonoData
import SonoPipeline
import SonoTensor

/// Progress and notes go to standard error, results to standard output.
let stderrLog: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }

/// `--threads`: the one process-wide setting (worker threads of every loop and primitive).
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    func apply() { if let threads { Engine.threads = threads } }
}

/// Which images of a dataset a command scores: folder, layout, split part and left-out classes.
struct EvaluationDataOptions: ParsableArguments {
    @Option(help: "Dataset folder.") var data: String
    @Option(help: "Dataset layout (default: detected).") var layout: DatasetLayout?
    @Option(help: "Split file (needed for --part test or validation).") var split: String?
    @Option(help: "Which images: test, validation, all.") var part: EvaluationPart = .test
    @Option(help: "Classes to leave out, comma separated (e.g. normal).") var exclude: String?

    /// The samples, leaving out `--exclude` and `alsoExcluded`.
    func samples(alsoExcluded: [String] = []) throws -> [Sample] {
        try evaluationSamples(path: data, layout: layout, split: split, part: part,
                              excludeClasses: (exclude?.split(separator: ",").map(String.init) ?? []) + alsoExcluded)
    }
}

/// The mask steps applied before scoring: none by default, as the papers score the threshold alone.
struct ScoringMaskOptions: ParsableArguments {
    @Flag(help: "Fill holes in each predicted mask before scoring (as `segment` does by default).") var fillHoles = false
    @Flag(help: "Keep only the largest predicted lesion before scoring (as `segment --largest-component`).") var largestComponent = false

    var postprocessing: MaskPostprocessing { MaskPostprocessing(fillHoles: fillHoles, largestComponent: largestComponent) }
}

/// A grid recipe and the folder its variants train into.
struct GridOptions: ParsableArguments {
    @Argument(help: "Grid recipe (JSON).") var recipe: String
    @Option(help: "Output folder.") var out: String

    var recipeURL: URL { URL(fileURLWithPath: recipe) }
    var folder: URL { URL(fileURLWithPath: out) }
}

/// `--threshold` (segment, evaluate) is a probability: outside [0, 1] every pixel, or none, would be lesion.
func validateThreshold(_ threshold: Float?) throws {
    if let threshold, !(0...1).contains(threshold) { throw ValidationError("--threshold must be in [0, 1], got \(threshold)") }
}
