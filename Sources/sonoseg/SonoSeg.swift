import ArgumentParser
import SonoPipeline

@main
struct SonoSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sonoseg",
        abstract: "Breast-ultrasound lesion segmentation and diagnosis.",
        subcommands: [TrainCommand.self, SegmentCommand.self, DatasetCommand.self, BenchCommand.self])
}
