import SonoBase
import SonoImaging
@testable import SonoData
import XCTest

final class AugmentationTests: XCTestCase {
    /// An image equal to its mask (lesion = 1, background = 0), so any geometric mismatch shows up.
    private func pair() -> (GrayImage, Mask) {
        let mask = SyntheticDatasets.mask(width: 32, height: 24, x: 5..<14, y: 4..<12)
        return (mask.toGray(), mask)
    }

    private func geometryOnly() -> AugmentationConfig {
        var c = AugmentationConfig.none
        c.horizontalFlipProbability = 0.5; c.verticalFlipProbability = 0.5; c.rotationProbability = 1
        c.scaleProbability = 1; c.translationProbability = 1; c.elasticProbability = 1
        return c
    }

    func testGeometryMovesImageAndMaskIdentically() {
        let (image, mask) = pair()
        for seed in 0..<20 as Range<UInt64> {
            var rng = RandomGenerator(seed: seed)
            let (warpedImage, warpedMask) = Augmenter(geometryOnly()).apply(image: image, mask: mask, rng: &rng)
            XCTAssertTrue(warpedMask.pixels.allSatisfy { $0 <= 1 }, "mask stays binary")
            XCTAssertGreaterThan(warpedMask.area, 0)
            // Where the (bilinear) image is clearly inside or outside, the (nearest) mask must agree.
            var disagreements = 0
            for i in warpedImage.pixels.indices {
                let v = warpedImage.pixels[i]
                if (v > 0.99 && warpedMask.pixels[i] == 0) || (v < 0.01 && warpedMask.pixels[i] == 1) { disagreements += 1 }
            }
            XCTAssertEqual(disagreements, 0, "seed \(seed)")
        }
    }

    func testHorizontalFlipAlone() {
        var c = AugmentationConfig.none
        c.horizontalFlipProbability = 1
        let (image, mask) = pair()
        var rng = RandomGenerator(seed: 1)
        let (flipped, flippedMask) = Augmenter(c).apply(image: image, mask: mask, rng: &rng)
        for y in 0..<24 { for x in 0..<32 { XCTAssertEqual(flippedMask[x, y], mask[31 - x, y]) } }
        XCTAssertEqual(flipped[31 - 5, 4], 1, accuracy: 1e-5)
    }

    func testSameSeedSameResultDifferentSeedDifferent() {
        let (image, mask) = pair()
        let augmenter = Augmenter(AugmentationConfig())
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9), c = RandomGenerator(seed: 10)
        let first = augmenter.apply(image: image, mask: mask, rng: &a)
        let second = augmenter.apply(image: image, mask: mask, rng: &b)
        XCTAssertEqual(first.image, second.image)
        XCTAssertEqual(first.mask, second.mask)
        var differs = false
        for _ in 0..<5 {
            let other = augmenter.apply(image: image, mask: mask, rng: &c)
            if other.image != first.image { differs = true }
        }
        XCTAssertTrue(differs)
    }

    func testIntensityOnlyKeepsMaskAndRange() {
        var c = AugmentationConfig.none
        c.brightnessProbability = 1; c.contrastProbability = 1; c.gammaProbability = 1
        c.gaussianNoiseProbability = 1; c.speckleProbability = 1; c.blurProbability = 1
        let (image, mask) = pair()
        var rng = RandomGenerator(seed: 3)
        let out = Augmenter(c).apply(image: image, mask: mask, rng: &rng)
        XCTAssertEqual(out.mask, mask)
        XCTAssertNotEqual(out.image, image)
        XCTAssertTrue(out.image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testNoneIsIdentityAndConfigDecodesWithDefaults() throws {
        let (image, mask) = pair()
        var rng = RandomGenerator(seed: 3)
        let out = Augmenter(.none).apply(image: image, mask: mask, rng: &rng)
        XCTAssertEqual(out.image, image)
        let decoded = try DefaultsDecoder().decode(AugmentationConfig.self, from: Data(#"{"maxRotationDegrees": 30, "gammaRange": {"low": 0.5, "high": 2}}"#.utf8))
        XCTAssertEqual(decoded.maxRotationDegrees, 30)
        XCTAssertEqual(decoded.gammaRange, Interval(0.5, 2))
        XCTAssertEqual(decoded.horizontalFlipProbability, AugmentationConfig().horizontalFlipProbability)
        let roundTrip = try JSONDecoder().decode(AugmentationConfig.self, from: JSONEncoder().encode(decoded))
        XCTAssertEqual(roundTrip, decoded)
    }
}
