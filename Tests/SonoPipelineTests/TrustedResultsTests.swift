@testable import SonoDiagnosis
import Foundation
import SonoBase
import SonoImaging
import SonoMetrics
import XCTest
@testable import SonoPipeline

/// A segmenter that answers a fixed probability map (scaled to each image): the tests below are about what
/// `segment` does with an answer, not about any network, so they hold on every CPU.
final class FixedSegmenter: Segmenter {
    let map: (Int, Int) -> [Float]
    init(_ map: @escaping (Int, Int) -> [Float]) { self.map = map }
    var url: URL { URL(fileURLWithPath: "/dev/null") }
    var threshold: Float { 0.5 }
    var name: String { "fixed" }
    var segments: Bool { true }
    var classNames: [String]? { nil }
    func predict(_ images: [GrayImage], flipTTA: Bool) throws -> [ImagePrediction] {
        images.map { ImagePrediction(lesion: GrayImage(width: $0.width, height: $0.height, pixels: map($0.width, $0.height))) }
    }

    /// Two separate discs: one of radius 8 at (12, 12), one of radius 5 at (40, 30).
    static let twoBlobs = FixedSegmenter { w, h in
        (0..<(w * h)).map { i in
            let (x, y) = (Double(i % w), Double(i / w))
            return (x - 12) * (x - 12) + (y - 12) * (y - 12) <= 64 || (x - 40) * (x - 40) + (y - 30) * (y - 30) <= 25 ? 0.9 : 0.1
        }
    }
}

/// Issue 28: nothing overwritten, nothing silently dropped, every row traceable.
final class TrustedResultsTests: XCTestCase {
    var root: URL!
    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("trusted-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("in/sub"), withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func writeImage(_ path: String, value: Float = 0.3) throws {
        let url = root.appendingPathComponent(path)
        try ImageIO.writePNG(GrayImage(width: 56, height: 44, pixels: [Float](repeating: value, count: 56 * 44)), to: url)
    }

    /// a.png + a.PNG and sub/x.png + sub/x.jpg: four inputs, four sets of outputs, four rows naming them.
    func testCaseAndExtensionClashesOverwriteNothing() throws {
        try writeImage("in/a.png", value: 0.2)
        try writeImage("in/a.PNG", value: 0.4)
        try writeImage("in/sub/x.png", value: 0.6)
        let jpeg = root.appendingPathComponent("in/sub/x.jpg")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SonoImagingTests/Fixtures/baseline.jpg"), to: jpeg)
        let inputs = try collectImages([root.appendingPathComponent("in")], recursive: true, log: { _ in })
        let out = root.appendingPathComponent("out")
        let rows = try segment(inputs, model: FixedSegmenter.twoBlobs, options: SegmentOptions(), out: out, log: { _ in })
        XCTAssertEqual(Set(rows.map(\.input)), ["a.png", "a.PNG", "sub/x.png", "sub/x.jpg"])
        let masks = try FileManager.default.subpathsOfDirectory(atPath: out.path).filter { $0.hasSuffix("_mask.png") }
        XCTAssertEqual(masks.count, 4, "\(masks)")
        XCTAssertEqual(Set(masks.map { $0.lowercased() }).count, 4, "distinct even where the file system folds case")
        XCTAssertFalse(masks.contains { $0.contains(root.path.dropFirst()) }, "outputs never repeat the input's absolute path: \(masks)")
        // each overlay is of its own image: the grey levels differ
        let overlays = try masks.map { try ImageIO.read(out.appendingPathComponent($0.replacingOccurrences(of: "_mask", with: "_overlay"))) }
        XCTAssertEqual(overlays.count, 4)
    }

    /// Two folders given with the same file inside: each row names its own file.
    func testSameNameUnderTwoFoldersGivesTwoInputs() throws {
        try FileManager.default.createDirectory(at: root.appendingPathComponent("left"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("right"), withIntermediateDirectories: true)
        try writeImage("left/img1.png")
        try writeImage("right/img1.png")
        let inputs = try collectImages([root.appendingPathComponent("left"), root.appendingPathComponent("right")], log: { _ in })
        XCTAssertEqual(inputs.map(\.relativePath), ["left/img1.png", "right/img1.png"])
        XCTAssertEqual(outputNames(inputs), ["left/img1", "right/img1"])
    }

    /// A run that stopped at a bad file resumes where it stopped once the file is mended: the finished inputs
    /// keep their rows, the rest are done, and the summary is that of one uninterrupted run.
    func testAStoppedRunResumes() throws {
        for name in ["a", "c"] { try writeImage("in/\(name).png") }
        try Data("not a PNG".utf8).write(to: root.appendingPathComponent("in/b.png"))
        let inputs = try collectImages([root.appendingPathComponent("in")], log: { _ in })
        let out = root.appendingPathComponent("out")
        XCTAssertThrowsError(try segment(inputs, model: FixedSegmenter.twoBlobs, options: SegmentOptions(), out: out, log: { _ in }))
        XCTAssertEqual(try JSONFiles.read([LesionSummary].self, from: out.appendingPathComponent("summary.json")).map(\.input), ["a.png"])
        try writeImage("in/b.png")
        var notes: [String] = []
        let rows = try segment(inputs, model: FixedSegmenter.twoBlobs, options: SegmentOptions(), out: out, log: { notes.append($0) })
        XCTAssertEqual(rows.map(\.input), ["b.png", "c.png"], "only what the stopped run had not done")
        XCTAssertTrue(notes.contains { $0.contains("resuming") }, "\(notes)")
        XCTAssertEqual(try JSONFiles.read([LesionSummary].self, from: out.appendingPathComponent("summary.json")).map(\.input), ["a.png", "b.png", "c.png"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("stopped.csv").path))
    }

    /// A second run into a folder is refused, with --append it adds rows with its run id and overwrites no file.
    func testASecondRunAppendsOrIsRefused() throws {
        try writeImage("in/a.png")
        try writeImage("in/b.png")
        let out = root.appendingPathComponent("out")
        let first = try segment([root.appendingPathComponent("in/a.png")], model: FixedSegmenter.twoBlobs, options: SegmentOptions(), out: out, log: { _ in })
        XCTAssertThrowsError(try segment([root.appendingPathComponent("in/b.png")], model: FixedSegmenter.twoBlobs, options: SegmentOptions(),
                                         out: out, log: { _ in })) { XCTAssertTrue("\($0)".contains("--append"), "\($0)") }
        var append = SegmentOptions()
        append.append = true
        XCTAssertThrowsError(try segment([root.appendingPathComponent("in/a.png")], model: FixedSegmenter.twoBlobs, options: append,
                                         out: out, log: { _ in })) { XCTAssertTrue("\($0)".contains("would be overwritten"), "\($0)") }
        let second = try segment([root.appendingPathComponent("in/b.png")], model: FixedSegmenter.twoBlobs, options: append, out: out, log: { _ in })
        let all = try JSONFiles.read([LesionSummary].self, from: out.appendingPathComponent("summary.json"))
        XCTAssertEqual(all.map(\.input), ["a.png", "b.png"])
        XCTAssertNotEqual(first[0].runID, second[0].runID)
        XCTAssertEqual(try CSVTable(contentsOf: out.appendingPathComponent("summary.csv")).rows.count, 2)
    }

    /// A write that fails midway (here a folder stands where an output file must go, as a full disk would refuse
    /// it) still leaves the summary of the rows done and the list of what was not.
    func testAFailedWriteLeavesTheSummaryOfWhatWasDone() throws {
        for name in ["a", "b", "c"] { try writeImage("in/\(name).png") }
        let out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("b_prob.png"), withIntermediateDirectories: true)
        let inputs = try collectImages([root.appendingPathComponent("in")], log: { _ in })
        XCTAssertThrowsError(try segment(inputs, model: FixedSegmenter.twoBlobs, options: SegmentOptions(), out: out, log: { _ in }))
        let rows = try JSONFiles.read([LesionSummary].self, from: out.appendingPathComponent("summary.json"))
        XCTAssertEqual(rows.map(\.input), ["a.png"])
        let stopped = try CSVTable(contentsOf: out.appendingPathComponent("stopped.csv"))
        XCTAssertEqual(stopped.rows.map { [$0[0], $0[1]] }, [["b.png", "failed"], ["c.png", "not reached"]])
    }

    /// A disk that fills up midway (a 256 KiB tmpfs the test mounts; skipped where mounting is not allowed):
    /// the run stops with the error, and the rows it finished are written, to the output folder if it still can,
    /// else to a folder of the temporary directory that the log names.
    func testAFullDiskLosesNoRow() throws {
        let disk = root.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=256k", "tmpfs", disk.path]
        mount.standardError = FileHandle.nullDevice
        try mount.run(); mount.waitUntilExit()
        try XCTSkipIf(mount.terminationStatus != 0, "mounting a tmpfs needs root")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [disk.path]
            try? umount.run(); umount.waitUntilExit()
        }
        // speckled images do not compress: each image's outputs take tens of KiB
        var rng = SplitMix64(seed: 5)
        for k in 0..<12 {
            try ImageIO.writePNG(GrayImage(width: 96, height: 96, pixels: (0..<(96 * 96)).map { _ in Float(rng.uniform()) }),
                                 to: root.appendingPathComponent("in/s\(k).png"))
        }
        let inputs = try collectImages([root.appendingPathComponent("in")], log: { _ in })
        var notes: [String] = []
        XCTAssertThrowsError(try segment(inputs, model: FixedSegmenter.twoBlobs, options: SegmentOptions(), out: disk.appendingPathComponent("out"),
                                         log: { notes.append($0) }))
        let written = notes.compactMap { line -> URL? in
            guard let r = line.range(of: " rows written to ") else { return nil }
            return URL(fileURLWithPath: String(line[r.upperBound...].prefix { $0 != ";" }.dropLast("/summary.csv".count)))
        }
        let folder = try XCTUnwrap(written.first, "\(notes)")
        defer { if !folder.path.hasPrefix(disk.path) { try? FileManager.default.removeItem(at: folder) } }
        let rows = try JSONFiles.read([LesionSummary].self, from: folder.appendingPathComponent("summary.json"))
        let stopped = try CSVTable(contentsOf: folder.appendingPathComponent("stopped.csv"))
        XCTAssertGreaterThan(rows.count, 0, "some images fit before the disk filled")
        XCTAssertEqual(rows.count + stopped.rows.count, inputs.count, "every input is a row or listed: \(notes)")
        XCTAssertEqual(Set(rows.map(\.input)).intersection(stopped.rows.map { $0[0] }), [])
    }

    /// Two lesions are measured apart: the image row carries the largest one's long axis, never one across both,
    /// and lesions.csv a row per lesion.
    func testEachLesionIsMeasuredOnItsOwn() throws {
        try writeImage("in/two.png")
        let out = root.appendingPathComponent("out")
        let row = try segment([root.appendingPathComponent("in/two.png")], model: FixedSegmenter.twoBlobs, options: SegmentOptions(),
                              out: out, log: { _ in })[0]
        XCTAssertEqual(row.components, 2)
        XCTAssertEqual(row.maxDiameterPixels, 16, accuracy: 0.01, "the larger disc's diameter, not the 40 px between the discs")
        let lesions = try CSVTable(contentsOf: out.appendingPathComponent("lesions.csv"))
        XCTAssertEqual(lesions.rows.count, 2)
        let diameter = try XCTUnwrap(lesions.header.firstIndex(of: "max_diameter_px"))
        XCTAssertEqual(lesions.rows.map { Double($0[diameter])! }, [16, 10])
        XCTAssertEqual(row.areaPixels, lesions.rows.map { Int($0[lesions.header.firstIndex(of: "area_px")!])! }.reduce(0, +))
    }

    /// The presence gate keeps what it suppressed: an empty mask, the candidate beside it, the cut-off in the
    /// row; and every picture and summary carries the research-use line.
    func testSuppressedCandidateIsKeptAndSaid() throws {
        try writeImage("in/flat.png")
        let bundle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/diagnosis")
        let diagnoser = try Diagnoser(bundle)
        let image = try ImageIO.readGray(root.appendingPathComponent("in/flat.png")).image
        let probability = try FixedSegmenter.twoBlobs.predict(image: image).lesion!
        let p = try diagnoser.diagnose(image: image, probability: probability, mask: MaskPostprocessing().mask(from: probability, threshold: 0.5)).lesionProbability
        try XCTSkipIf(p >= 1, "the bundle is certain of this image; no cut-off can suppress it")
        var options = SegmentOptions()
        options.presenceThreshold = min(1, p + 1e-6)
        let out = root.appendingPathComponent("out")
        let row = try segment([root.appendingPathComponent("in/flat.png")], model: FixedSegmenter.twoBlobs, options: options, diagnoser: diagnoser,
                              out: out, log: { _ in })[0]
        XCTAssertFalse(row.lesionFound)
        XCTAssertEqual(row.presenceThreshold, options.presenceThreshold)
        XCTAssertEqual(row.suppressedAreaPixels, probability.pixels.filter { $0 >= 0.5 }.count)
        XCTAssertEqual(try ImageIO.readMask(out.appendingPathComponent("flat_mask.png")).mask.area, 0)
        XCTAssertEqual(try ImageIO.readMask(out.appendingPathComponent("flat_candidate_mask.png")).mask.area, row.suppressedAreaPixels)
        let readme = try String(contentsOf: out.appendingPathComponent("README.txt"), encoding: .utf8)
        XCTAssertTrue(readme.contains(ResearchUse.notice) && readme.contains("presence_threshold"))
        let csv = try CSVTable(contentsOf: out.appendingPathComponent("summary.csv"))
        XCTAssertTrue(csv.header.contains("presence_threshold") && csv.header.contains("suppressed_area_px") && csv.header.contains("input"))
    }

    /// BI-RADS reaches the overlay's caption only with a calibrated probability at or above the stated floor.
    func testBIRADSCaptionNeedsItsFloor() {
        var d = Diagnosis(lesionProbability: 0.9, lesionPresent: true, pathology: "malignant", malignancyProbability: 0.88, birads: "3",
                          biradsProbability: 0.39)
        XCTAssertFalse(d.caption.contains("BI-RADS"), d.caption)
        XCTAssertTrue(d.summary.contains("BI-RADS 3"))
        d.biradsProbability = Diagnosis.biradsCaptionFloor
        XCTAssertTrue(d.caption.contains("BI-RADS 3"), d.caption)
    }
}
