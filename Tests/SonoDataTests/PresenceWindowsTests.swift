import Foundation
import SonoBase
import SonoImaging
@testable import SonoData
import XCTest

final class PresenceWindowsTests: XCTestCase {
    /// Every pair: same size and rows, inside the frame; the negative clear of the lesion and of the column below
    /// it by the clearance; the positive holding the lesion's central half.
    func testPairsKeepTheirPromises() {
        let config = PresenceWindowConfig()
        var made = 0
        for seed in 0..<40 as Range<UInt64> {
            var rng = RandomGenerator(seed: seed)
            let (w, h) = (200 + Int(seed % 5) * 20, 120 + Int(seed % 3) * 30)
            let lesion = PixelBox(x: 10 + Int(seed) * 3, y: 15 + Int(seed % 7) * 4, width: 20 + Int(seed % 4) * 8, height: 18)
            let gap = max(2, Int((config.clearance * Double(max(lesion.width, lesion.height))).rounded()))
            let shadow = PixelBox(x: lesion.x - gap, y: lesion.y - gap, width: lesion.width + 2 * gap, height: h)
            let core = PixelBox(x: lesion.x + lesion.width / 4, y: lesion.y + lesion.height / 4,
                                width: lesion.width - 2 * (lesion.width / 4), height: lesion.height - 2 * (lesion.height / 4))
            let frame = PixelBox(x: 0, y: 0, width: w, height: h)
            for (negative, positive) in PresenceWindowSampler.pairs(width: w, height: h, lesion: lesion, config: config, rng: &rng) {
                made += 1
                XCTAssertEqual(negative.width, positive.width); XCTAssertEqual(negative.height, positive.height)
                XCTAssertEqual(negative.y, positive.y, "seed \(seed): the pair shares its depth")
                XCTAssertTrue(frame.contains(negative) && frame.contains(positive), "seed \(seed)")
                XCTAssertFalse(negative.intersects(shadow), "seed \(seed): negative touches the lesion or its shadow")
                XCTAssertTrue(positive.contains(core), "seed \(seed): positive misses the lesion's centre")
                XCTAssertGreaterThanOrEqual(Double(negative.width), config.widthFraction.low * Double(w) - 1)
                XCTAssertLessThanOrEqual(Double(negative.width), config.widthFraction.high * Double(w) + 1)
            }
        }
        XCTAssertGreaterThan(made, 60, "small lesions leave room for pairs")
    }

    /// Calipers near the lesion count; marks far from it (text in a corner) do not.
    func testCalipersAreMarksAroundTheLesion() {
        var marks = Mask(width: 100, height: 80)
        let lesion = PixelBox(x: 40, y: 30, width: 20, height: 16)
        for d in -3...3 { marks[2 + 3 + d, 3] = 1; marks[5, 3 + d] = 1 }   // a cross in the corner
        XCTAssertFalse(PresenceWindowSampler.hasCalipers(marks, lesion: lesion, clearance: 0.15))
        for d in -3...3 { marks[38 + d, 28] = 1; marks[38, 28 + d] = 1 }  // a cross at the lesion's corner
        XCTAssertTrue(PresenceWindowSampler.hasCalipers(marks, lesion: lesion, clearance: 0.15))
    }

    /// A lesion that fills the frame leaves no lesion-free window: no pair, rather than a "negative" on the lesion.
    func testALesionFillingTheFrameGivesNoPair() {
        var rng = RandomGenerator(seed: 1)
        let pairs = PresenceWindowSampler.pairs(width: 100, height: 80, lesion: PixelBox(x: 5, y: 5, width: 90, height: 70),
                                                config: PresenceWindowConfig(), rng: &rng)
        XCTAssertTrue(pairs.isEmpty)
    }

    /// The written folder is a paired dataset whose split keeps each window in its source's part, whose
    /// negatives have empty masks and positives the lesion; a second write to the same folder is refused.
    func testWriterMakesAPairedDatasetThatTheReadersRead() throws {
        let data = try SyntheticDatasets()
        let base = "busi/Dataset_BUSI_with_GT"
        var ids = [String]()
        for i in 1...6 {
            let kind = i == 3 ? "malignant" : "benign", id = "\(kind) (\(i))"
            try data.write(SyntheticDatasets.image(seed: i, width: 96, height: 64), "\(base)/\(kind)/\(id).png")
            try data.write(SyntheticDatasets.mask(width: 96, height: 64, x: (36 + i)..<(50 + i), y: 20..<34), "\(base)/\(kind)/\(id)_mask.png")
            ids.append(id)
        }
        let dataset = try Dataset.read(data.root.appendingPathComponent("busi"))
        let split = DatasetSplit(version: 1, configuration: SplitConfiguration(), layout: "busi", root: dataset.root.path,
                                 test: [ids[0]], folds: [], train: Array(ids[1...4]), validation: [ids[5]])
        let out = data.root.appendingPathComponent("windows")
        let summary = try PresenceWindowWriter.write(dataset, split: split, config: PresenceWindowConfig(), to: out) { _ in }
        XCTAssertFalse(summary.windows.isEmpty)

        let windows = try Dataset.read(out)
        XCTAssertEqual(windows.layout, .paired)
        XCTAssertEqual(windows.samples.count, summary.windows.count)
        let written = try SplitStore.load(out.appendingPathComponent("split.json"), dataset: windows)
        for w in summary.windows {
            let expected = w.source == ids[0] ? "test" : w.source == ids[5] ? "validation" : "train"
            XCTAssertEqual(w.part, expected)
            let list = expected == "test" ? written.test : expected == "validation" ? written.validation : written.train
            XCTAssertTrue(list.contains(w.id), "\(w.id) in \(expected)")
            let sample = try XCTUnwrap(windows.samples.first { $0.id == w.id })
            XCTAssertEqual(sample.className, w.label)
            let loaded = try sample.load()
            XCTAssertEqual(loaded.mask.isEmpty, w.label == "normal", "\(w.id): negatives are lesion-free, positives hold it")
        }
        XCTAssertEqual(Set(summary.windows.map(\.label)), ["normal", "lesion"])
        XCTAssertThrowsError(try PresenceWindowWriter.write(dataset, split: split, config: PresenceWindowConfig(), to: out) { _ in }) {
            XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
        }
    }

    func testScannerTransformsAreOffByDefaultAndDrawNothing() {
        XCTAssertFalse(AugmentationConfig().scannerAppearance)
        let image = SyntheticDatasets.mask(width: 32, height: 24, x: 5..<14, y: 4..<12).toGray()
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        var copy = image
        Augmenter(AugmentationConfig()).scanner(&copy, rng: &a)
        XCTAssertEqual(copy, image)
        XCTAssertEqual(a.next(), b.next(), "no random numbers drawn when every scanner transform is off")
    }

    /// Block quantisation keeps a smooth image's mean and stays close; a coarse step changes more than a fine one.
    func testBlockQuantisationIsAFaithfulLossyRoundTrip() {
        var image = GrayImage(width: 21, height: 13)
        for y in 0..<13 { for x in 0..<21 { image.pixels[y * 21 + x] = 0.3 + 0.02 * Float(x) + 0.01 * Float(y) } }
        let fine = Augmenter.blockQuantised(image, step: 0.001), coarse = Augmenter.blockQuantised(image, step: 0.3)
        let err = { (a: GrayImage) in zip(a.pixels, image.pixels).map { abs($0 - $1) }.max()! }
        XCTAssertLessThan(err(fine), 0.005)
        XCTAssertGreaterThan(err(coarse), err(fine))
        XCTAssertEqual(fine.width, 21); XCTAssertEqual(fine.height, 13)
    }

    func testGainCurveAndMarksChangeOnlyTheImage() {
        var c = AugmentationConfig.none
        c.gainCurveProbability = 1; c.marksProbability = 1; c.compressionProbability = 1
        let mask = SyntheticDatasets.mask(width: 64, height: 48, x: 20..<30, y: 10..<20)
        let image = GrayImage(width: 64, height: 48, value: 0.4)
        var rng = RandomGenerator(seed: 5)
        let (out, outMask) = Augmenter(c).apply(image: image, mask: mask, rng: &rng)
        XCTAssertEqual(outMask, mask)
        XCTAssertNotEqual(out, image)
        XCTAssertTrue(out.pixels.allSatisfy { (0...1).contains($0) })
        XCTAssertTrue(out.pixels.contains { $0 >= 0.85 }, "a caliper mark is bright")
    }
}
