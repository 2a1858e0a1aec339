import ArgumentParser
import Foundation
import SonoPipeline

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the reference workloads (same shapes as shared/bench/torch_reference.py).",
        discussion: "Prints one line per workload: WORKLOAD name median_ms=… min_ms=… max_ms=… peak_rss_mb=…")

    @Argument(help: "Workloads to run (default: \(Bench.workloads.joined(separator: ", "))). Also: \(Bench.pipelineWorkloads.joined(separator: ", ")).")
    var workloads: [String] = []

    @Option(help: "Timed runs per workload (the reference uses 7).")
    var runs = 7

    @Option(help: "Folder with bus-bra/ and busi/ for the pipeline workloads.")
    var data = "../shared/data"

    @Option(help: "Model file or run folder that the segment workload times (default: the bundled model).")
    var model: String?

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    func run() throws {
        if let threads { Parallel.threads = threads }
        for w in workloads.isEmpty ? Bench.workloads : workloads {
            try Bench.run(w, runs: runs, dataRoot: data, model: model.map { URL(fileURLWithPath: $0) }) { print($0); fflush(stdout) }
        }
    }
}

import Foundation
