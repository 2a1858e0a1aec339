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
        try Data("text".utf8).write(to: root.appendingPathComponent("in/notes.docx"))
        // TIFF and DICOM written by pydicom (fuzz/corpus): a TIFF sharing a stem with a PNG, a calibrated DICOM
        // without an extension as hospitals export them, a three-frame cine loop, and a truncated DICOM.
        let corpus = samples.deletingLastPathComponent().appendingPathComponent("fuzz/corpus")
        for (from, to) in [("grey8.tif", "in/y.tif"), ("us-regions.dcm", "in/IM0001"), ("cine-rle.dcm", "in/cine.dcm")] {
            try FileManager.default.copyItem(at: corpus.appendingPathComponent(from), to: root.appendingPathComponent(to))
        }
        try Data(try Data(contentsOf: corpus.appendingPathComponent("us-regions.dcm")).prefix(900)).write(to: root.appendingPathComponent("in/bad.dcm"))
        var notes: [String] = []
        let images = try collectImages([root.appendingPathComponent("in")], recursive: true, log: { notes.append($0) })
        XCTAssertEqual(images.count, 8)
        XCTAssertTrue(notes.contains { $0.contains("ignored 1 files") && $0.contains("notes.docx") }, "\(notes)")
        XCTAssertEqual(try collectImages([root.appendingPathComponent("in")], log: { _ in }).count, 5, "without --recursive only the top folder")

        var options = SegmentOptions()
        let out = root.appendingPathComponent("out")
        XCTAssertThrowsError(try segment(images, model: try loadSegmenter(try DefaultModel.locate()), options: options, out: out, log: { _ in }))
        options.onError = .skip
        options.pixelSpacingMM = 0.5   // for the files without a calibration of their own
        let rows = try segment(images, model: try loadSegmenter(try DefaultModel.locate()), options: options, out: out, log: { _ in })
        XCTAssertEqual(rows.map(\.image).sorted(), ["IM0001", "cine.dcm", "cine.dcm", "cine.dcm", "in/x.png", "nest/x.png", "y.png", "y.tif"])
        XCTAssertEqual(rows.filter { $0.image == "cine.dcm" }.map(\.frame), [1, 2, 3])
        for r in rows where r.image == "IM0001" || r.image == "cine.dcm" {
            XCTAssertNotNil(r.maxDiameterMM, "mm from the file")
            XCTAssertEqual(r.spacingSource, r.image == "IM0001" ? "ultrasound regions" : "pixel spacing")
        }
        XCTAssertEqual(rows.first { $0.image == "y.png" }?.spacingSource, "--spacing")
        for file in ["in/x_mask.png", "nest/x_mask.png", "y-png_mask.png", "y-tif_mask.png", "IM0001_overlay.png", "cine_f001_mask.png",
                     "cine_f003_mask.png", "summary.csv", "skipped.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let skipped = try String(contentsOf: out.appendingPathComponent("skipped.csv"), encoding: .utf8)
        XCTAssertTrue(skipped.contains("broken.png") && skipped.contains("corrupt PNG"), skipped)
        XCTAssertTrue(skipped.contains("bad.dcm") && skipped.contains("corrupt DICOM"), skipped)
    }
}
