@testable import SonoConvNets
@testable import SonoDiagnosis
@testable import SonoMetrics
import Foundation
import SonoBase
import SonoData
import SonoImaging
@testable import SonoPipeline
import XCTest

/// The pieces of the diagnosis: lesion window, labels, calibration, presence, the model digest, captions.
final class DiagnosisPartsTests: XCTestCase {
    func testCropBoxCentresTheLesionWithMarginAndPadsOutside() {
        var mask = Mask(width: 100, height: 60)
        for y in 10..<20 { for x in 80..<100 { mask[x, y] = 1 } }   // 20×10 lesion at the right border
        let box = CropBox(around: mask, margin: 0.5, minimumFraction: 0.1)
        XCTAssertEqual(box.side, 40)                                  // longer side 20 + 2·0.5·20
        XCTAssertEqual(box.x + box.side / 2, 90)
        XCTAssertEqual(box.y + box.side / 2, 15)
        let image = GrayImage(width: 100, height: 60, value: 1)
        let crop = box.apply(image)
        XCTAssertEqual(crop.width, 40)
        XCTAssertEqual(crop.pixels[39], 0, "right of the image reads as background")
        XCTAssertEqual(crop.pixels[20 * 40 + 5], 1)
        XCTAssertEqual(box.apply(mask).area, 200, "the whole lesion is in the window")
        let tiny = CropBox(around: { var m = Mask(width: 100, height: 60); m[50, 30] = 1; return m }(), margin: 0.3, minimumFraction: 0.5)
        XCTAssertEqual(tiny.side, 30, "a one-pixel lesion gets the minimum window")
        XCTAssertEqual(CropBox(around: Mask(width: 100, height: 60), margin: 0.3, minimumFraction: 0.2), CropBox(x: 0, y: -20, side: 100))
    }

    func testCropPreprocessingNeedsTheLesion() {
        var c = PreprocessConfig(width: 32, height: 32)
        c.crop = LesionCropConfig()
        var mask = Mask(width: 200, height: 100)
        for y in 40..<60 { for x in 20..<40 { mask[x, y] = 1 } }
        let image = GrayImage(width: 200, height: 100, pixels: (0..<20_000).map { Float($0 % 200) / 200 })
        let resized = Preprocessor(c).resize(image: image, mask: mask)
        XCTAssertEqual(resized.image.width, 32)
        XCTAssertGreaterThan(resized.mask.areaFraction, 0.3, "the lesion fills the window")
        let input = Preprocessor(c).prepare(image, lesion: mask)
        XCTAssertEqual(input.pixels.count, 32 * 32)
        c.crop!.margin = -1
        XCTAssertTrue(c.problems.contains { $0.contains("preprocess.crop.margin is -1") })
    }

    func testBIRADSLabelsDropUngradedImagesAndMergeSubcategories() {
        let url = URL(fileURLWithPath: "/x.png")
        let samples = [Sample(id: "a", imageURL: url, maskURLs: [], className: "benign", birads: "4a"),
                       Sample(id: "b", imageURL: url, maskURLs: [], className: "benign", birads: nil),
                       Sample(id: "c", imageURL: url, maskURLs: [], className: "malignant", birads: "5")]
        let (kept, dropped) = LabelSource.birads.relabel(samples)
        XCTAssertEqual(kept.map(\.className), ["4", "5"])
        XCTAssertEqual(dropped, 1)
        XCTAssertEqual(LabelSource.className.relabel(samples).samples.map(\.className), ["benign", "benign", "malignant"])
    }

    func testTemperatureScalingRecoversAnOverconfidentModelsTemperature() {
        var rng = SplitMix64(seed: 3)
        var logits: [[Float]] = [], labels: [Int] = []
        for _ in 0..<4000 {
            let z = Float(Double(rng.next() % 10_000) / 10_000 * 8 - 4)
            // True probability of class 1 is σ(z); the model reports 3z (three times too confident).
            let p = 1 / (1 + exp(-Double(z)))
            labels.append(Double(rng.next() % 1_000_000) / 1_000_000 < p ? 1 : 0)
            logits.append([0, 3 * z])
        }
        let t = TemperatureScaling.fit(logits: logits, labels: labels)
        XCTAssertEqual(t, 3, accuracy: 0.35)
        let before = Calibration(probabilities: TemperatureScaling.apply(logits, temperature: 1), labels: labels)
        let after = Calibration(probabilities: TemperatureScaling.apply(logits, temperature: t), labels: labels)
        XCTAssertGreaterThan(before.ece, 0.05)
        XCTAssertLessThan(after.ece, 0.03)
        XCTAssertEqual(after.bins.reduce(0) { $0 + $1.count }, 4000)
        let svg = after.svg(title: "t<est>")
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("t&lt;est&gt;") && svg.contains("ECE"))
    }

    func testClassificationReportGivesIntervalsSensitivityAndSpecificity() throws {
        let probabilities: [[Float]] = (0..<40).map { i in i < 17 ? [0.8, 0.2] : i < 20 ? [0.45, 0.55] : (i < 35 ? [0.3, 0.7] : [0.6, 0.4]) }
        let labels = (0..<40).map { $0 < 20 ? 0 : 1 }
        let r = try ClassificationReport(probabilities: probabilities, labels: labels, classNames: ["benign", "malignant"])
        XCTAssertEqual(r.sensitivity!, 15.0 / 20, accuracy: 1e-9)
        XCTAssertEqual(r.specificity!, 17.0 / 20, accuracy: 1e-9)
        XCTAssertEqual(r.auc!, 385.0 / 400, accuracy: 1e-9)
        let ci = try XCTUnwrap(r.aucInterval)
        XCTAssertLessThanOrEqual(ci[0], r.auc!)
        XCTAssertGreaterThanOrEqual(ci[1], r.auc!)
        XCTAssertLessThan(ci[0], ci[1])
        XCTAssertTrue(MetricsMarkdown.diagnosisTable([("m", r)]).contains("0.750"))
    }

    func testPresenceRegressionSeparatesAConfidentBlobFromScatter() {
        func map(_ blob: Bool, _ seed: UInt64) -> GrayImage {
            var rng = SplitMix64(seed: seed)
            var g = GrayImage(width: 64, height: 64)
            for i in g.pixels.indices { g.pixels[i] = Float(rng.next() % 100) / 400 }   // noise up to 0.25
            if blob { for y in 20..<40 { for x in 20..<40 { g.pixels[y * 64 + x] = 0.95 } } }
            else { for k in 0..<6 { g.pixels[Int(rng.next() % 4096)] = 0.6 + Float(k) / 100 } }
            return g
        }
        let features = (0..<40).map { PresenceFeatures(probability: map($0 % 2 == 0, UInt64($0)), threshold: 0.5) }
        let labels = (0..<40).map { $0 % 2 == 0 }
        var model = PresenceModel.fit(features, labels: labels)
        let p = features.map { model.probability($0) }
        XCTAssertTrue(zip(p, labels).allSatisfy { $1 ? $0 > 0.9 : $0 < 0.1 }, "\(p)")
        model.threshold = PresenceModel.threshold(probabilities: p, labels: labels, sensitivity: 0.95)
        XCTAssertTrue(zip(p, labels).allSatisfy { !$1 || $0 >= model.threshold })
    }

    /// `presenceInputs` "classifier" reads the logit alone: the map features do not move its probability, and
    /// its feature names say so (the bundle loader checks them against its classifier).
    func testPresenceFromTheClassifierAloneIgnoresTheMap() {
        var features = [PresenceFeatures]()
        for k in 0..<40 {
            var f = PresenceFeatures(probability: GrayImage(width: 8, height: 8, value: Float(k % 7) / 7), threshold: 0.5)
            f.classifierLogit = k % 2 == 0 ? 2 + Double(k % 5) / 5 : -2 - Double(k % 3) / 3
            features.append(f)
        }
        let labels = (0..<40).map { $0 % 2 == 0 }
        let model = PresenceModel.fit(features, labels: labels, names: PresenceInputs.classifier.featureNames(hasClassifier: true))
        XCTAssertEqual(model.featureNames, ["classifierLogit"])
        XCTAssertEqual(model.weights.count, 1)
        var other = features[0]
        other.maxProbability = 0; other.largestShare = 0
        XCTAssertEqual(model.probability(other), model.probability(features[0]))
        XCTAssertTrue(zip(features, labels).allSatisfy { (model.probability($0) > 0.5) == $1 })
        XCTAssertEqual(PresenceModel.fit(features, labels: labels).featureNames, PresenceFeatures.names + ["classifierLogit"])
        XCTAssertNil(PresenceFeatures(probability: GrayImage(width: 4, height: 4), threshold: 0.5).vector(["classifierLogit"]))
    }

    func testSHA256MatchesTheStandardsVectors() {
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testHeatmapHasAScaleBarAndKeepsTheImageSize() throws {
        XCTAssertEqual(Overlay.inferno(0), RGB(0, 0, 4))
        XCTAssertEqual(Overlay.inferno(1), RGB(252, 255, 164))
        let probability = GrayImage(width: 100, height: 60, pixels: (0..<6000).map { Float($0 % 100) / 99 })
        let h = try Overlay.heatmap(GrayImage(width: 100, height: 60, value: 0.5), probability: probability)
        XCTAssertEqual(h.height, 60)
        XCTAssertGreaterThan(h.width, 100)
        guard case let .uint8(p) = h.pixels else { return XCTFail() }
        let left = Array(p[(30 * h.width) * 3..<(30 * h.width) * 3 + 3]), right = Array(p[(30 * h.width + 99) * 3..<(30 * h.width + 99) * 3 + 3])
        XCTAssertNotEqual(left, right, "probability 0 and 1 look different")
        XCTAssertThrowsError(try Overlay.heatmap(GrayImage(width: 10, height: 10), probability: probability))
    }

    func testCaptionAddsABandWithText() throws {
        let overlay = try Overlay.render(GrayImage(width: 120, height: 80, value: 0.5), mask: Mask(width: 120, height: 80))
        let captioned = Overlay.captioned(overlay, lines: ["B22.PNG 12.5 MM", "P(LESION) 0.91"])
        XCTAssertEqual(captioned.width, 120)
        XCTAssertGreaterThan(captioned.height, 80 + 2 * 7)
        guard case let .uint8(p) = captioned.pixels else { return XCTFail() }
        let band = p[(80 * 120 * 3)...]
        XCTAssertTrue(band.contains(235), "text pixels drawn")
        XCTAssertTrue(band.contains(24), "background band")
        XCTAssertEqual(Array(p[0..<3]), [128, 128, 128], "the image itself untouched")
    }
}
