import ArgumentParser
import SonoPipeline

@main
struct SonoSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sonoseg",
        abstract: "Breast-ultrasound lesion segmentation and diagnosis.",
        subcommands: [DatasetCommand.self, BenchCommand.self])
}
