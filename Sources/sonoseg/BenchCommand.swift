import ArgumentParser
import Foundation
import SonoPipeline
import SonoTools
import SonoTensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the reference workloads (same shapes as shared/bench/torch_reference.py).",
        discussion: """
            The first line names the instruction set oneDNN runs on and the activation layout chosen for it \
            (cap it with ONEDNN_MAX_CPU_ISA=AVX2 to see what a CPU without AVX-512 runs). Then one line per \
            workload: WORKLOAD name median_ms=… min_ms=… max_ms=… peak_rss_mb=…. The check `kernels` runs one \
            step of each hot path and lists the oneDNN implementation of every primitive (none may be `ref:`).
            """)

    @Argument(help: "Workloads to run (default: \(Bench.workloads.joined(separator: ", "))). Also: \((Bench.throughputWorkloads + Bench.pipelineWorkloads + Bench.checks).joined(separator: ", ")).")
    var workloads: [String] = []

    @Option(help: "Timed runs per workload (the reference uses 7).")
    var runs = 7

    @Option(help: "Folder with bus-bra/ and busi/ for the pipeline workloads.")
    var data = "../shared/data"

    @Option(help: "Model file or run folder that the segment workload times (default: the bundled model).")
    var model: String?

    @OptionGroup var threading: ThreadOptions

    @Flag(help: "After each workload, list the oneDNN implementation of every primitive created so far (KERNEL lines).")
    var verbose = false

    func run() throws {
        threading.apply()
        print("ISA \(Engine.summary), \(Engine.threads) threads")
        for w in workloads.isEmpty ? Bench.workloads : workloads {
            try Bench.run(w, runs: runs, dataRoot: data, model: model.map { URL(fileURLWithPath: $0) }) { print($0); fflush(stdout) }
            if verbose && !Bench.checks.contains(w) {
                for p in Engine.primitivesInUse() { print("KERNEL \(p.implementation) \(p.operation)") }
            }
        }
    }
}

import Foundation
