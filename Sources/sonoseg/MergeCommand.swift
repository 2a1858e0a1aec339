import ArgumentParser
import Foundation
import SonoPipeline

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the summary parts of a sharded `segment` (--shard) into one summary.",
        discussion: """
        Each argument is a part (OUT/parts/shard-I-of-N) or an output folder holding parts/. Writes summary.csv, \
        summary.json, lesions.csv, lesions.json and skipped.csv to --out, rows in input order, as one unsharded run \
        writes them. Refuses parts of different jobs, a shard given twice, a shard that stopped (run it again), and \
        names the shards missing and the inputs they leave uncovered.
        """)
    @Argument(help: "Summary parts, or output folders holding parts/.") var parts: [String]
    @Option(help: "Folder for the joined summary (often the shards' shared --out).") var out: String

    func run() throws {
        let r = try mergeShards(parts.map { URL(fileURLWithPath: $0) }, out: URL(fileURLWithPath: out), log: stderrLog)
        print("\(r.rows.count) rows from \(r.parts) parts; summary in \(out)/summary.csv")
    }
}
