import ArgumentParser
import Foundation
import SonoPipeline
import SonoTools

struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Feed mutated files to every reader of untrusted bytes; any crash or hang is a bug.",
        discussion: """
        Reads each seed of the corpus (PNG, JPEG, BMP, safetensors, recipes, model headers; fuzz/corpus/) as it \
        is, then mutates it, and runs the matching reader in this process (for a model header: the checks, then \
        the network built). Refusals with an error are expected and counted; a crash stops \
        with exit status 70 naming the input (replay it with --only), an input slower than 10 s fails the run. \
        Input i depends only on --seed and i. `make test` runs 3,000 inputs; `make fuzz` runs 200,000.
        """)

    @Option(help: "Inputs to run.") var runs = 10_000
    @Option(help: "Seed of the mutations.") var seed: UInt64 = 1
    @Option(help: "Folder of seed files.") var corpus = "fuzz/corpus"
    @Option(help: "Run only input N (replay).") var only: Int?

    func run() throws {
        let started = Date()
        let r = try Fuzzer.run(corpus: URL(fileURLWithPath: corpus), runs: runs, seed: seed, only: only, log: stderrLog)
        let seconds = Date().timeIntervalSince(started)
        print(String(format: "FUZZ runs=%d refused=%d crashes=0 slowest_s=%.3f (%@ #%d) seconds=%.1f",
                     r.runs, r.refused, r.slowest.seconds, r.slowest.target, r.slowest.index, seconds))
        print("SEEDS replayed unmutated, \(r.seedsRefused) refused (the corpus keeps bad inputs on purpose)")
        for (file, n) in r.perTarget.sorted(by: { $0.key < $1.key }) { print("SEED \(file) \(n)") }
        if r.slowest.seconds > 10 { throw ValidationError("input \(r.slowest.index) took \(r.slowest.seconds) s: a hang") }
    }
}
