import ArgumentParser
import CCPUCheck
import SonoBase
import SonoPipeline

/// A reference that keeps CCPUCheck linked: its constructor names a CPU without AVX2 before `main` runs.
let cpuCheckLinked = sonoseg_cpu_check_linked()

@main
struct SonoSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sonoseg",
        abstract: "Breast-ultrasound lesion segmentation and diagnosis.",
        version: SonoSegVersion.current,
        subcommands: [SegmentCommand.self, TrainCommand.self, ClassifyCommand.self, EvaluateCommand.self, CVCommand.self, GridCommand.self, DatasetCommand.self, BenchCommand.self, ImplicitCommand.self, ExportCommand.self, DiagnosisCommand.self, ReportCommand.self, FuzzCommand.self, MergeCommand.self, ServeCommand.self])
}

extension SonoSeg {
    /// The entry point: the OpenMP wait policy first (it must be in the environment before libgomp starts), then
    /// the command line.
    static func main() {
        WaitPolicy.ensureChosen()
        main(nil as [String]?)
    }
}
