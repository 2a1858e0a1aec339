import SonoRegistry
import Foundation
import SonoBase
import SonoData
import SonoImaging
import XCTest
@testable import SonoPipeline

/// A folder as a lab has it: subfolders, files sharing a stem, a broken file, a format SonoSeg does not read.
/// Every good file gets its own results, the broken one is named, nothing overwrites anything.
final class BatchSegmentTests: XCTestCase {
    func testOutputNamesNeverCollide() {
        let inputs = ["b22.jpg", "b22.bmp", "nest/a/x.png", "nest/b/x.png", "solo.png", "a.png", "a.PNG", "A.png"]
            .map { SegmentInput(url: URL(fileURLWithPath: "/d/" + $0), relativePath: $0) }
        XCTAssertEqual(outputNames(inputs), ["b22-jpg", "b22-bmp", "nest/a/x", "nest/b/x", "solo", "a-png", "a-png-2", "A-png-3"])
        XCTAssertEqual(Set(outputNames(inputs).map { $0.lowercased() }).count, inputs.count, "unique even on a case-folding file system")
        // a stem that is another's plus the start of an output suffix never writes that one's files
        let suffixed = ["x.png", "x_candidate.png", "cine.dcm", "cine_f001.png", "cine_f002_extended.png"]
            .map { SegmentInput(url: URL(fileURLWithPath: "/d/" + $0), relativePath: $0) }
        XCTAssertEqual(outputNames(suffixed), ["x", "x_candidate-png", "cine", "cine_f001-png", "cine_f002_extended-png"])
        // files given directly are named by their file name, never by their absolute path
        XCTAssertEqual(outputNames(["/p/q/r/x.png", "/s/q/r/y.png"].map { SegmentInput(URL(fileURLWithPath: $0)) }), ["x", "y"])
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
        let stoppedRun = root.appendingPathComponent("stopped")
        XCTAssertThrowsError(try segment(images, model: try loadSegmenter(try DefaultModel.locate()), options: options, out: stoppedRun, log: { _ in }))
        // the run that stopped at the broken file still says what it did and what it did not
        let stopped = try CSVTable(contentsOf: stoppedRun.appendingPathComponent("stopped.csv"))
        XCTAssertEqual(stopped.rows.first?[0], "bad.dcm", "the first unreadable file in listing order")
        XCTAssertEqual(stopped.rows.first?[1], "failed")
        XCTAssertEqual(stopped.rows.dropFirst().map { $0[1] }, Array(repeating: "not reached", count: stopped.rows.count - 1))
        let done = try JSONFiles.read([LesionSummary].self, from: stoppedRun.appendingPathComponent("summary.json"))
        XCTAssertEqual(done.count + stopped.rows.count, images.count, "every input is either a row or listed")
        let out = root.appendingPathComponent("out")
        options.onError = .skip
        options.pixelSpacingMM = 0.5   // for the files without a calibration of their own
        let rows = try segment(images, model: try loadSegmenter(try DefaultModel.locate()), options: options, out: out, log: { _ in })
        XCTAssertEqual(rows.map(\.input).sorted(), ["IM0001", "cine.dcm", "cine.dcm", "cine.dcm", "nest/x.png", "nest/y.png", "x.png", "y.tif"])
        XCTAssertEqual(rows.filter { $0.image == "cine.dcm" }.map(\.frame), [1, 2, 3])
        for r in rows where r.image == "IM0001" || r.image == "cine.dcm" {
            XCTAssertNotNil(r.maxDiameterMM, "mm from the file")
            XCTAssertEqual(r.spacingSource, r.image == "IM0001" ? "ultrasound regions" : "pixel spacing")
        }
        XCTAssertEqual(rows.first { $0.input == "nest/y.png" }?.spacingSource, "--spacing")
        // a DICOM row traces back to its instance (and frame); other formats carry no UIDs
        for r in rows {
            let dicom = r.input == "IM0001" || r.input == "cine.dcm"
            XCTAssertEqual(r.sopInstanceUID != nil, dicom, r.input)
            if dicom { XCTAssertTrue(r.sopInstanceUID!.allSatisfy { $0.isNumber || $0 == "." }, r.sopInstanceUID!) }
        }
        XCTAssertEqual(Set(rows.filter { $0.input == "cine.dcm" }.map(\.sopInstanceUID)).count, 1, "one instance, three frames")
        for file in ["x_mask.png", "nest/x_mask.png", "nest/y_mask.png", "y_mask.png", "IM0001_overlay.png", "cine_f001_mask.png",
                     "cine_f003_mask.png", "summary.csv", "lesions.csv", "README.txt", "skipped.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let skipped = try String(contentsOf: out.appendingPathComponent("skipped.csv"), encoding: .utf8)
        XCTAssertTrue(skipped.contains("broken.png") && skipped.contains("corrupt PNG"), skipped)
        XCTAssertTrue(skipped.contains("bad.dcm") && skipped.contains("corrupt DICOM"), skipped)
    }
}
