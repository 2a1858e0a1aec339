@testable import SonoConvNets
import XCTest
import SonoBase
import SonoMetrics
@testable import SonoPipeline

final class LeaveOneDatasetOutTests: XCTestCase {
    /// Two tiny paired-folder datasets: one direction each, named after the dataset left out; each run's resolved
    /// recipe and split files hold only the other dataset; the left-out one is scored on its test part; the table
    /// has both rows; a second call keeps the finished directions.
    func testEachDirectionTrainsWithoutItsLeftOutDataset() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lodo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var datasets: [URL] = []
        for (name, seed) in [("alpha", UInt64(1)), ("beta-set", UInt64(2))] {
            let made = try makeDiscDataset(count: 10, size: 32, seed: seed)
            let url = root.appendingPathComponent(name)
            try FileManager.default.moveItem(at: made, to: url)
            datasets.append(url)
        }
        var config = tinyConfig(data: datasets[0], epochs: 1)
        config.data = datasets.map { DataSource(path: $0.path) }
        config.data[1].repeats = 2
        (config.preprocess.width, config.preprocess.height) = (32, 32)
        config.name = "tiny"
        let out = root.appendingPathComponent("out")

        XCTAssertThrowsError(try leaveOneDatasetOut(tinyConfig(data: datasets[0], epochs: 1), folder: out, resume: false, log: { _ in }))
        let summary = try leaveOneDatasetOut(config, folder: out, resume: false, log: { _ in })

        XCTAssertEqual(summary.directions.map(\.name), ["without-alpha", "without-beta-set"])
        for (i, direction) in summary.directions.enumerated() {
            let leftOut = datasets[i].path, kept = datasets[1 - i].path
            let run = out.appendingPathComponent(direction.name)
            // The run's resolved recipe: the other dataset only, with its repeats.
            let resolved = try TrainConfig.load(run.appendingPathComponent("config.json"))
            XCTAssertEqual(resolved.data.map(\.path), [kept])
            XCTAssertEqual(resolved.data[0].repeats, config.data[1 - i].repeats)
            XCTAssertEqual(direction.trainedOn, [kept])
            XCTAssertEqual(direction.leftOut, leftOut)
            // Its split files (the shared ones in `out`) cover the kept dataset only.
            let splitFiles = resolved.data.compactMap(\.split)
            XCTAssertEqual(splitFiles.map { URL(fileURLWithPath: $0).lastPathComponent },
                           ["split-\(i == 0 ? "beta-set" : "alpha").json"])
            // Scored on the left-out dataset's test part, which is that dataset's split file's `test`.
            let split = try JSONDecoder().decode(TestPart.self, from: Data(contentsOf: out.appendingPathComponent("split-\(i == 0 ? "alpha" : "beta-set").json")))
            let scored = try SegmentationReport.decode(json: Data(contentsOf: run.appendingPathComponent("left-out-\(i == 0 ? "alpha" : "beta-set")/metrics.json")))
            XCTAssertEqual(Set(scored.rows.map(\.id)), Set(split.test))
            XCTAssertEqual(direction.images, split.test.count)
            XCTAssertNotNil(direction.dice.mean)
            XCTAssertNotNil(direction.dice.ciLower)
        }
        let md = try String(contentsOf: out.appendingPathComponent("lodo.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| without-alpha | beta-set | alpha (test) |"), md)
        XCTAssertTrue(md.contains("| without-beta-set | alpha | beta-set (test) |"), md)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("lodo.json").path))

        // Finished directions are kept: nothing trains again.
        var lines: [String] = []
        let again = try leaveOneDatasetOut(config, folder: out, resume: true, log: { lines.append($0) })
        XCTAssertTrue(lines.isEmpty, "\(lines)")
        XCTAssertEqual(again.directions.map(\.dice), summary.directions.map(\.dice))

        // A finished direction from another configuration is refused, not mixed in.
        var longer = config
        longer.epochs = 2
        XCTAssertThrowsError(try leaveOneDatasetOut(longer, folder: out, resume: true, log: { _ in }))

        // --part all scores every image of the left-out dataset, beside the test part, with the same models.
        lines = []
        let all = try leaveOneDatasetOut(config, part: .all, folder: out, resume: true, log: { lines.append($0) })
        XCTAssertEqual(all.directions.map(\.images), [10, 10])
        XCTAssertTrue(lines.filter { $0.hasPrefix("epoch") }.isEmpty, "\(lines)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("without-alpha/left-out-alpha-all/metrics.json").path))
    }
}

/// The `test` part of a split file.
private struct TestPart: Decodable { var test: [String] }
