import Foundation
import SonoData
import SonoImaging
import XCTest
@testable import SonoPipeline

/// A folder as a lab has it: subfolders, files sharing a stem, a broken file, a format SonoSeg does not read.
/// Every good file gets its own results, the broken one is named, nothing overwrites anything.
final class BatchSegmentTests: XCTestCase {
    func testOutputNamesNeverCollide() {
        let urls = ["/d/b22.jpg", "/d/b22.bmp", "/d/nest/a/x.png", "/d/nest/b/x.png", "/d/solo.png"].map { URL(fileURLWithPath: $0) }
        XCTAssertEqual(outputNames(urls), ["b22-jpg", "b22-bmp", "a/x", "b/x", "solo"])
        let deep = ["/p/q/r/x.png", "/s/q/r/x.png"].map { URL(fileURLWithPath: $0) }
        XCTAssertEqual(outputNames(deep), ["p/q/r/x", "s/q/r/x"])
    }

    func testARecursiveBatchWritesEveryGoodImageAndNamesTheRest() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples")
        for (from, to) in [("busi-benign-19.png", "in/x.png"), ("busi-benign-18.png", "in/nest/x.png"), ("busi-benign-22.png", "in/nest/y.png")] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(to).deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: samples.appendingPathComponent(from), to: root.appendingPathComponent(to))
        }
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).write(to: root.appendingPathComponent("in/nest/broken.png"))
        try Data("text".utf8).write(to: root.appendingPathComponent("in/scan.tif"))
        var notes: [String] = []
        let images = try collectImages([root.appendingPathComponent("in")], recursive: true, log: { notes.append($0) })
        XCTAssertEqual(images.count, 4)
        XCTAssertTrue(notes.contains { $0.contains("ignored 1 files") && $0.contains("scan.tif") }, "\(notes)")
        XCTAssertEqual(try collectImages([root.appendingPathComponent("in")], log: { _ in }).count, 1, "without --recursive only the top folder")

        var options = SegmentOptions()
        let out = root.appendingPathComponent("out")
        XCTAssertThrowsError(try segment(images, model: try loadPredictor(try DefaultModel.locate()), options: options, out: out, log: { _ in }))
        options.onError = .skip
        let rows = try segment(images, model: try loadPredictor(try DefaultModel.locate()), options: options, out: out, log: { _ in })
        XCTAssertEqual(rows.map(\.image).sorted(), ["in/x.png", "nest/x.png", "y.png"].sorted())
        for file in ["in/x_mask.png", "nest/x_mask.png", "y_mask.png", "summary.csv", "skipped.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let skipped = try String(contentsOf: out.appendingPathComponent("skipped.csv"), encoding: .utf8)
        XCTAssertTrue(skipped.contains("broken.png") && skipped.contains("corrupt PNG"), skipped)
    }
}
