import ArgumentParser
import SonoPipeline

@main
struct SonoSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sonoseg",
        abstract: "Breast-ultrasound lesion segmentation and diagnosis.",
        subcommands: [SegmentCommand.self, TrainCommand.self, ClassifyCommand.self, EvaluateCommand.self, CVCommand.self, GridCommand.self, DatasetCommand.self, BenchCommand.self, ImplicitCommand.self, ExportCommand.self])
}
