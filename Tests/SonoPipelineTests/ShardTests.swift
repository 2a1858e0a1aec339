import SonoRegistry
import Foundation
import SonoBase
import SonoImaging
import XCTest
@testable import SonoPipeline

/// Issue 31: a `segment` job split over machines gives, once merged, what one machine gives.
final class ShardTests: XCTestCase {
    func testShardsPartitionTheInputsWhateverTheirOrder() throws {
        let paths = (0..<200).map { "case\($0)/img\($0 % 7).png" }
        let shards = try (0..<3).map { try Shard(index: $0, count: 3) }
        for p in paths { XCTAssertEqual(shards.filter { $0.owns(p) }.count, 1, p) }
        XCTAssertTrue(shards.allSatisfy { s in paths.contains { s.owns($0) } }, "no empty shard among 200 inputs")
        XCTAssertEqual(Shard.hash("a.png"), 0xa292_05b5_6ba8_5779, "FNV-1a 64 (checked with Python): the same on every machine and release")
        for bad in ["3/3", "-1/2", "1", "a/b", "0/0"] { XCTAssertThrowsError(try Shard(parsing: bad), bad) }
    }

    func testSchedulerVariablesGiveTheShard() throws {
        XCTAssertEqual(try Shard.fromScheduler(["OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "4"], shards: nil), try Shard(index: 2, count: 4))
        XCTAssertEqual(try Shard.fromScheduler(["PMI_RANK": "0", "PMI_SIZE": "2"], shards: nil), try Shard(index: 0, count: 2))
        // Slurm arrays often count from 1 (--array=1-3)
        XCTAssertEqual(try Shard.fromScheduler(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"], shards: nil),
                       try Shard(index: 2, count: 3))
        XCTAssertEqual(try Shard.fromScheduler(["JOB_COMPLETION_INDEX": "1"], shards: 5), try Shard(index: 1, count: 5))
        XCTAssertThrowsError(try Shard.fromScheduler(["JOB_COMPLETION_INDEX": "1"], shards: nil)) { XCTAssertTrue("\($0)".contains("--shards")) }
        XCTAssertThrowsError(try Shard.fromScheduler(["HOME": "/root"], shards: nil)) { XCTAssertTrue("\($0)".contains("no scheduler")) }
        XCTAssertThrowsError(try Shard.fromScheduler(["OMPI_COMM_WORLD_RANK": "4", "OMPI_COMM_WORLD_SIZE": "4"], shards: nil))
    }

    /// The samples and a synthetic tree (with a case clash) split three ways and merged: the same rows, in the
    /// same order, and byte-identical masks, as the unsharded run; a missing shard named; a stopped one rerun.
    func testThreeShardsMergedEqualOneRun() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("shards-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples")
        let tree = root.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("ward/b"), withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: samples.path) where f.hasSuffix(".png") {
            try FileManager.default.copyItem(at: samples.appendingPathComponent(f), to: tree.appendingPathComponent(f))
        }
        var rng = SplitMix64(seed: 3)
        for name in ["ward/a.png", "ward/a.PNG", "ward/b/c.png", "ward/b/d.png"] {
            try ImageIO.writePNG(GrayImage(width: 64, height: 48, pixels: (0..<(64 * 48)).map { _ in Float(rng.uniform()) }),
                                 to: tree.appendingPathComponent(name))
        }
        let inputs = try collectImages([tree], recursive: true, log: { _ in })
        XCTAssertEqual(inputs.count, 9)
        let model = try loadSegmenter(try DefaultModel.locate())
        let single = root.appendingPathComponent("single"), sharded = root.appendingPathComponent("sharded")
        let whole = try segment(inputs, model: model, options: SegmentOptions(), out: single, log: { _ in })
        for i in [0, 2] {   // shard 1 is left out for now
            var o = SegmentOptions()
            o.shard = try Shard(index: i, count: 3)
            _ = try segment(inputs, model: model, options: o, out: sharded, log: { _ in })
        }
        XCTAssertThrowsError(try mergeShards([sharded], out: sharded, log: { _ in })) {
            XCTAssertTrue("\($0)".contains("no part for shard 1/3"), "\($0)")
        }
        var o = SegmentOptions()
        o.shard = try Shard(index: 1, count: 3)
        _ = try segment(inputs, model: model, options: o, out: sharded, log: { _ in })
        XCTAssertThrowsError(try segment(inputs, model: model, options: o, out: sharded, log: { _ in }), "a finished shard is not redone")
        let merged = try mergeShards([sharded], out: sharded, log: { _ in })
        func comparable(_ r: LesionSummary) -> LesionSummary {
            var r = r
            (r.seconds, r.processedAt, r.runID) = (0, "", nil)
            return r
        }
        XCTAssertEqual(merged.rows.map(comparable), whole.map(comparable))
        let masks = try FileManager.default.subpathsOfDirectory(atPath: single.path).filter { $0.hasSuffix("_mask.png") }.sorted()
        XCTAssertEqual(masks.count, 9)
        for m in masks {
            XCTAssertEqual(try Data(contentsOf: single.appendingPathComponent(m)), try Data(contentsOf: sharded.appendingPathComponent(m)), m)
        }
        XCTAssertEqual(try String(contentsOf: single.appendingPathComponent("lesions.csv"), encoding: .utf8)
                        .split(separator: "\n").count,
                       try String(contentsOf: sharded.appendingPathComponent("lesions.csv"), encoding: .utf8).split(separator: "\n").count)
        XCTAssertThrowsError(try mergeShards([sharded.appendingPathComponent("parts/shard-0-of-3"), sharded.appendingPathComponent("parts/shard-0-of-3")],
                                             out: root.appendingPathComponent("twice"), log: { _ in })) {
            XCTAssertTrue("\($0)".contains("given twice"), "\($0)")
        }
    }
}
