import SonoMetrics
import Foundation
import SonoPipeline
import SonoBase
import SonoData

/// A comparison grid: a base recipe and named variants that override parts of it. Each variant trains on the
/// same split and is scored on its test images (and optionally, zero-shot, on other datasets); the results
/// become one table. `Config` is the trainer's recipe type: `GridRecipe` for U-Nets, `TaskGridRecipe` for
/// classification, segmentation and multitask models.
public struct GridRecipeOf<Config: Codable>: Codable, Sendable {
    public struct Variant: Codable, Sendable {
        public var name: String
        /// A partial recipe merged over `base` (objects merge key by key; other values replace).
        public var set: JSONValue
    }
    /// Another dataset scored in full with every variant's model (zero-shot).
    public struct External: Codable, Sendable {
        public var name: String
        public var path: String
        public var excludeClasses: [String]?
    }
    public var name: String
    public var base: JSONValue
    public var variants: [Variant]
    public var external: [External]?

    public static func load(_ url: URL) throws -> Self {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw PipelineError.unreadable(url.path, "file not found") }
        do { return try DefaultsDecoder().decode(Self.self, from: data) } catch {
            throw PipelineError.unreadable(url.path, "not a grid recipe: \(describeDecoding(error))")
        }
    }

    /// The full recipe of variant `v`.
    public func config(_ v: Variant) throws -> Config {
        var merged = base.merging(v.set)
        if case var .object(o) = merged { o["name"] = .string(v.name); merged = .object(o) }
        do {
            return try RecipeFile.decode(Config.self, data: JSONEncoder().encode(merged), path: "\(name): variant '\(v.name)'", what: "recipe")
        } catch let PipelineError.unreadable(_, reason) {
            throw PipelineError.invalidConfig("variant '\(v.name)': \(reason)")
        }
    }
}

public typealias GridRecipe = GridRecipeOf<TrainConfig>

/// Runs every variant (skipping finished ones, resuming interrupted ones) and writes grid.md and grid.json.
public func runGrid(_ recipe: GridRecipe, folder: URL, log: @escaping (String) -> Void) throws -> String {
    var entries: [(name: String, report: SegmentationReport)] = []
    var external: [String: [(name: String, report: SegmentationReport)]] = [:]
    var times: [String: Double] = [:]
    for v in recipe.variants {
        var c = try recipe.config(v)
        var run = folder.appendingPathComponent(slug(v.name))
        for i in c.data.indices where c.data[i].split == nil {
            c.data[i].split = folder.appendingPathComponent("split-\(i).json").path   // one split for all variants
        }
        var test = run.appendingPathComponent("test/metrics.json")
        if !FileManager.default.fileExists(atPath: test.path), let twin = finishedTwin(of: c, in: folder) {
            // Papers' tables share their baseline (Duffy's Tables 1-4 all contain the same U-Net): grids run
            // into one folder train it once.
            log("variant \(v.name): same configuration as \(twin.lastPathComponent), reusing it")
            run = twin
            test = run.appendingPathComponent("test/metrics.json")
        }
        if !FileManager.default.fileExists(atPath: test.path) {
            log("variant \(v.name)")
            try Folders.create(folder)
            _ = try train(c, folder: run, resume: FileManager.default.fileExists(atPath: RunFolder(run).last.path), log: log)
        }
        entries.append((v.name, try SegmentationReport.decode(json: Data(contentsOf: test))))
        if let s = try? JSONDecoder().decode(TrainSummary.self, from: Data(contentsOf: RunFolder(run).summary)) { times[v.name] = s.seconds }
        for ext in recipe.external ?? [] {
            let out = run.appendingPathComponent("external-\(slug(ext.name))")
            let file = out.appendingPathComponent("metrics.json")
            if !FileManager.default.fileExists(atPath: file.path) {
                let model = try LoadedModel(RunFolder(run).best)
                let samples = try evaluationSamples(path: ext.path, split: nil, part: .all, excludeClasses: ext.excludeClasses ?? [])
                let e = try evaluate(model, samples: samples, onError: c.onError); let (report, skipped) = (e.report, e.skipped)
                try writeEvaluation(report, name: v.name, skipped: skipped, to: out)
            }
            external[ext.name, default: []].append((v.name, try SegmentationReport.decode(json: Data(contentsOf: file))))
        }
    }
    var md = "## \(recipe.name): held-out test split\n\n" + MetricsMarkdown.segmentationTable(entries)
    md += "\nTraining time (s): " + recipe.variants.map { "\($0.name) \(Int(times[$0.name] ?? 0))" }.joined(separator: ", ") + "\n"
    for ext in recipe.external ?? [] {
        md += "\n## \(recipe.name): zero-shot on \(ext.name) (all images)\n\n" + MetricsMarkdown.segmentationTable(external[ext.name] ?? [])
    }
    try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("grid.md"))
    // several grids may share a folder (and their common variants): each also keeps its own table
    try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("grid-\(slug(recipe.name)).md"))
    return md
}

/// A finished run in `folder` (test metrics written) whose configuration equals `config` except for its name.
func finishedTwin(of config: TrainConfig, in folder: URL) -> URL? {
    guard let runs = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil) else { return nil }
    var wanted = config
    wanted.name = ""
    for run in runs.sorted(by: { $0.path < $1.path })
    where FileManager.default.fileExists(atPath: run.appendingPathComponent("test/metrics.json").path) {
        guard var other = try? TrainConfig.load(RunFolder(run).config) else { continue }
        other.name = ""
        if other == wanted { return run }
    }
    return nil
}

func slug(_ s: String) -> String {
    String(s.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
}
