import Foundation
import SonoBase

/// What `merge` joined.
public struct MergeResult {
    public var rows: [LesionSummary]
    public var parts: Int
}

/// `sonoseg merge`: joins the summary parts of a sharded `segment` (`parts/shard-I-of-N/` folders, or folders
/// holding them) into one summary.csv / summary.json, lesions.csv / lesions.json and skipped.csv in `out`, rows in
/// the order of the input list, as one unsharded run writes them. Refused, naming what is wrong: parts of
/// different jobs (other input lists or shard counts), a shard given twice, a part that stopped (rerun that
/// shard), and inputs no part covered (the shards missing, by name).
public func mergeShards(_ parts: [URL], out: URL, log: (String) -> Void) throws -> MergeResult {
    var folders: [URL] = []
    for p in parts {
        if FileManager.default.fileExists(atPath: p.appendingPathComponent("shard.json").path) { folders.append(p); continue }
        // an output folder: its parts/ inside
        let inside = p.appendingPathComponent("parts")
        let listed = (try? FileManager.default.contentsOfDirectory(at: inside, includingPropertiesForKeys: nil)) ?? []
        let found = listed.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("shard.json").path) }
        guard !found.isEmpty else { throw PipelineError.unreadable(p.path, "no summary part (shard.json) here or in its parts/ folder") }
        folders += found.sorted { $0.path < $1.path }
    }
    var records: [(URL, ShardRecord)] = []
    for f in folders {
        let r = try JSONFiles.read(ShardRecord.self, from: f.appendingPathComponent("shard.json"))
        records.append((f, r))
    }
    let (first, reference) = records[0]
    var seen: [Int: URL] = [:]
    for (f, r) in records {
        guard r.shard.count == reference.shard.count, r.inputs == reference.inputs else {
            throw PipelineError.invalidConfig("\(f.path) is a part of another job than \(first.path) (shard counts \(r.shard.count) and "
                + "\(reference.shard.count), \(r.inputs.count) and \(reference.inputs.count) inputs)")
        }
        if let other = seen[r.shard.index] {
            throw PipelineError.invalidConfig("shard \(r.shard) is given twice: \(other.path) and \(f.path)")
        }
        seen[r.shard.index] = f
        guard r.complete else {
            throw PipelineError.invalidConfig("shard \(r.shard) stopped before it finished (\(f.path)/stopped.csv); run that shard again, then merge")
        }
    }
    let n = reference.shard.count
    let missing = (0..<n).filter { seen[$0] == nil }
    if !missing.isEmpty {
        let uncovered = reference.inputs.filter { path in missing.contains { i in (try? Shard(index: i, count: n))?.owns(path) == true } }
        throw PipelineError.invalidConfig("no part for shard\(missing.count > 1 ? "s" : "") \(missing.map { "\($0)/\(n)" }.joined(separator: ", ")): "
            + "\(uncovered.count) inputs not covered (\(uncovered.prefix(5).joined(separator: ", "))\(uncovered.count > 5 ? ", …" : ""))")
    }
    let lock = try FolderLock(out, purpose: "merging")
    defer { withExtendedLifetime(lock) {} }
    if FileManager.default.fileExists(atPath: out.appendingPathComponent("summary.json").path) {
        throw PipelineError.invalidConfig("\(out.path) already holds a summary; merge into another folder")
    }
    let order = Dictionary(uniqueKeysWithValues: reference.inputs.enumerated().map { ($1, $0) })
    var rows: [LesionSummary] = [], lesions: [LesionRow] = [], skipped: [[String]] = []
    for (f, _) in records {
        rows += try JSONFiles.read([LesionSummary].self, from: f.appendingPathComponent("summary.json"))
        lesions += try JSONFiles.read([LesionRow].self, from: f.appendingPathComponent("lesions.json"))
        let s = f.appendingPathComponent("skipped.csv")
        if FileManager.default.fileExists(atPath: s.path) { skipped += try CSVTable(contentsOf: s).rows }
    }
    var rowSeen = Set<String>()
    for r in rows {
        let key = r.input + "#\(r.frame ?? 0)"
        guard rowSeen.insert(key).inserted else { throw PipelineError.invalidConfig("\(r.input) has rows in two parts") }
    }
    func place(_ input: String, _ frame: Int?, _ lesion: Int = 0) -> (Int, Int, Int) { (order[input] ?? Int.max, frame ?? 0, lesion) }
    rows.sort { place($0.input, $0.frame) < place($1.input, $1.frame) }
    lesions.sort { place($0.input, $0.frame, $0.lesion) < place($1.input, $1.frame, $1.lesion) }
    skipped.sort { (order[$0[0]] ?? Int.max) < (order[$1[0]] ?? Int.max) }
    try writeSummaries(rows, lesions: lesions, to: out)
    if !skipped.isEmpty {
        let csv = "file,reason\n" + skipped.map { $0.map(CSVField.escape).joined(separator: ",") }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(csv.utf8), to: out.appendingPathComponent("skipped.csv"))
    }
    log("merged \(records.count) parts: \(rows.count) rows for \(reference.inputs.count) inputs\(skipped.isEmpty ? "" : ", \(skipped.count) skipped") → \(out.path)")
    return MergeResult(rows: rows, parts: records.count)
}
