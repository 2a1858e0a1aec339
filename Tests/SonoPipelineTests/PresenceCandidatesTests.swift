@testable import SonoDiagnosis
import Foundation
import SonoBase
@testable import SonoData
import SonoImaging
@testable import SonoPipeline
import XCTest

/// `sonoseg dataset candidates`: the segmenter's strongest region away from the lesion, never the lesion itself.
final class PresenceCandidatesTests: XCTestCase {
    /// A 64×64 map with discs of `value` at (x, y, radius).
    func map(_ discs: [(x: Double, y: Double, r: Double, value: Float)], background: Float = 0) -> GrayImage {
        GrayImage(width: 64, height: 64, pixels: (0..<(64 * 64)).map { i in
            let (x, y) = (Double(i % 64), Double(i / 64))
            return discs.filter { ($0.x - x) * ($0.x - x) + ($0.y - y) * ($0.y - y) <= $0.r * $0.r }.map(\.value).max() ?? background
        })
    }

    func lesion(x: Range<Int>, y: Range<Int>) -> Mask {
        var m = Mask(width: 64, height: 64)
        for yy in y { for xx in x { m[xx, yy] = 1 } }
        return m
    }

    func testTheCandidateIsTheStrongestRegionAwayFromTheLesion() throws {
        let config = PresenceCandidateConfig()
        let lesion = lesion(x: 6..<19, y: 6..<19)
        // The lesion's own response is never a candidate; the far disc is, at the first threshold.
        let far = try XCTUnwrap(PresenceCandidateSampler.candidate(probability: map([(12, 12, 6, 0.9), (48, 48, 4, 0.7)]), lesion: lesion, config: config))
        XCTAssertEqual(far.threshold, 0.5)
        XCTAssertEqual(far.mask.boundingBox, PixelBox(x: 44, y: 44, width: 9, height: 9))
        XCTAssertEqual(config.crop.box(around: far.mask).apply(lesion).area, 0)

        // A bigger region whose window would show the lesion is passed over for a smaller one clear of it.
        let beside = try XCTUnwrap(PresenceCandidateSampler.candidate(
            probability: map([(12, 12, 6, 0.9), (26, 12, 5, 0.8), (50, 50, 3, 0.8)]), lesion: lesion, config: config))
        XCTAssertEqual(beside.mask.boundingBox, PixelBox(x: 47, y: 47, width: 7, height: 7))

        // A faint map still gives its strongest response, at half its height; a map with nothing outside the lesion gives none.
        let faint = try XCTUnwrap(PresenceCandidateSampler.candidate(probability: map([(12, 12, 6, 0.9), (48, 20, 4, 0.02)], background: 0.001),
                                                                     lesion: lesion, config: config))
        XCTAssertEqual(faint.threshold, 0.01, accuracy: 1e-6)
        XCTAssertEqual(faint.mask.boundingBox, PixelBox(x: 44, y: 16, width: 9, height: 9))
        XCTAssertNil(PresenceCandidateSampler.candidate(probability: map([(12, 12, 6, 0.9)]), lesion: lesion, config: config))
        // Without a lesion, the largest region is the candidate.
        let normal = try XCTUnwrap(PresenceCandidateSampler.candidate(probability: map([(12, 12, 6, 0.9), (48, 48, 4, 0.7)]),
                                                                      lesion: Mask(width: 64, height: 64), config: config))
        XCTAssertEqual(normal.mask.boundingBox, PixelBox(x: 6, y: 6, width: 13, height: 13))
    }

    /// With `lesionSizedNegatives` a lesion image's negative is a box of its lesion's size centred on the candidate:
    /// the same window size as the positive, still clear of the lesion; where that would show the lesion, a smaller box.
    func testLesionSizedNegativesAreTheLesionMovedOntoTheCandidate() throws {
        var config = PresenceCandidateConfig()
        config.lesionSizedNegatives = true
        let lesion = lesion(x: 6..<19, y: 6..<19)
        let far = try XCTUnwrap(PresenceCandidateSampler.candidate(probability: map([(12, 12, 6, 0.9), (48, 48, 4, 0.7)]), lesion: lesion, config: config))
        XCTAssertEqual(far.mask.boundingBox, PixelBox(x: 42, y: 42, width: 13, height: 13))
        XCTAssertEqual(far.mask.area, lesion.area)
        XCTAssertEqual(config.crop.box(around: far.mask).side, config.crop.box(around: lesion).side)
        // beside the lesion a full-size window would hold some of it, and so would three quarters: half the size is taken
        let beside = try XCTUnwrap(PresenceCandidateSampler.candidate(
            probability: map([(12, 12, 6, 0.9), (26, 12, 5, 0.8), (50, 50, 3, 0.8)]), lesion: lesion, config: config))
        XCTAssertEqual(beside.mask.boundingBox, PixelBox(x: 23, y: 9, width: 7, height: 7))
        XCTAssertEqual(config.crop.box(around: beside.mask).apply(lesion).area, 0)
        // at the border the box is cut by the frame
        let edge = try XCTUnwrap(PresenceCandidateSampler.candidate(probability: map([(12, 12, 6, 0.9), (62, 40, 1.5, 0.8)]), lesion: lesion, config: config))
        XCTAssertEqual(edge.mask.boundingBox, PixelBox(x: 56, y: 34, width: 8, height: 13))
    }

    /// The written folder is a paired dataset: each lesion image gives its lesion and a candidate, each normal
    /// image its candidate (unless left out), every region in its source's part; a second write is refused.
    func testWriterMakesAPairedDatasetOfRegions() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("candidates-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("data")
        try Folders.create(source.appendingPathComponent("images")); try Folders.create(source.appendingPathComponent("masks"))
        var ids = [String]()
        for i in 0..<6 {
            let id = "case\(i)"
            let image = GrayImage(width: 64, height: 64, pixels: (0..<(64 * 64)).map { Float(($0 * 7 + i * 31) % 251) / 255 })
            try ImageIO.writePNG(image, to: source.appendingPathComponent("images/\(id).png"))
            try ImageIO.writePNG(i < 4 ? lesion(x: 6..<19, y: 6..<19) : Mask(width: 64, height: 64), to: source.appendingPathComponent("masks/\(id).png"))
            ids.append(id)
        }
        let dataset = try Dataset.read(source, layout: .paired)
        let split = DatasetSplit(version: 1, configuration: SplitConfiguration(), layout: "paired", root: source.path,
                                 test: ["case0"], folds: [], train: ["case1", "case2", "case4"], validation: ["case3", "case5"])
        let segmenter = FixedSegmenter { _, _ in self.map([(12, 12, 6, 0.9), (48, 48, 4, 0.7)]).pixels }
        let out = root.appendingPathComponent("candidates")
        let summary = try PresenceCandidateWriter.write(dataset, split: split, segmenter: segmenter, config: PresenceCandidateConfig(), to: out) { _ in }
        XCTAssertEqual(summary.candidates.filter { $0.label == "lesion" }.map(\.source), ["case0", "case1", "case2", "case3"])
        XCTAssertEqual(summary.candidates.filter { $0.label == "normal" }.count, 6)

        let regions = try Dataset.read(out)
        XCTAssertEqual(regions.layout, .paired)
        let written = try SplitStore.load(out.appendingPathComponent("split.json"), dataset: regions)
        for c in summary.candidates {
            XCTAssertEqual(c.part, ["case0": "test", "case3": "validation", "case5": "validation"][c.source] ?? "train")
            XCTAssertTrue((c.part == "test" ? written.test : c.part == "validation" ? written.validation : written.train).contains(c.id))
            let sample = try XCTUnwrap(regions.samples.first { $0.id == c.id })
            XCTAssertEqual(sample.className, c.label)
            let mask = try sample.load().mask
            // a lesion image's negative is the far disc, a normal image's the larger one
            let expected = c.label == "lesion" || c.source >= "case4" ? PixelBox(x: 6, y: 6, width: 13, height: 13) : PixelBox(x: 44, y: 44, width: 9, height: 9)
            XCTAssertEqual(mask.boundingBox, expected, c.id)
        }
        XCTAssertThrowsError(try PresenceCandidateWriter.write(dataset, split: split, segmenter: segmenter, config: PresenceCandidateConfig(), to: out) { _ in }) {
            XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
        }
        var lesionsOnly = PresenceCandidateConfig()
        lesionsOnly.includeNormalImages = false
        let second = try PresenceCandidateWriter.write(dataset, split: split, segmenter: segmenter, config: lesionsOnly,
                                                       to: root.appendingPathComponent("lesions-only")) { _ in }
        XCTAssertFalse(second.candidates.contains { $0.source >= "case4" }, "normal images left out")
        // a segmenter that finds nothing gives no negative: refused, and nothing is left behind
        let blank = FixedSegmenter { w, h in [Float](repeating: 0, count: w * h) }
        XCTAssertThrowsError(try PresenceCandidateWriter.write(dataset, split: split, segmenter: blank, config: PresenceCandidateConfig(),
                                                               to: root.appendingPathComponent("nothing")) { _ in }) {
            XCTAssertTrue("\($0)".contains("no lesion or no candidate"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path).sorted(), ["candidates", "data", "lesions-only"],
                       "no staging folder left behind, no half-written folder")
    }
}
