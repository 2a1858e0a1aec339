@testable import SonoConvNets
import Foundation
import SonoNN
@testable import SonoPipeline
import SonoTensor
import XCTest

/// The loss's boundary term: heavier BCE at the outline, on both sides of it, and nowhere else.
final class BoundaryWeightsTests: XCTestCase {
    func testWeightsPeakAtTheOutlineOnBothSidesAndFadeAway() {
        let (w, h) = (24, 20)
        var masks = [Float](repeating: 0, count: 2 * w * h)   // plane 0: a 8×6 lesion; plane 1: no lesion
        for y in 7..<13 { for x in 8..<16 { masks[y * w + x] = 1 } }
        let map = BoundaryWeights.map(masks, count: 2, width: w, height: h, weight: 5, sigma: 2)
        let atOutline = 1 + 5 * Float(exp(-1.0 / 8))   // one pixel from the other class
        XCTAssertEqual(map[7 * w + 10], atOutline, accuracy: 1e-5, "lesion pixel on the top edge")
        XCTAssertEqual(map[6 * w + 10], atOutline, accuracy: 1e-5, "background pixel just above it")
        XCTAssertEqual(map[10 * w + 12], 1 + 5 * Float(exp(-9.0 / 8)), accuracy: 1e-5, "lesion centre row, 3 px from the edge")
        XCTAssertEqual(map[0], 1, accuracy: 1e-3, "far corner")
        XCTAssertTrue(map.allSatisfy { $0 >= 1 && $0 <= 6 })
        XCTAssertEqual(Array(map[(w * h)...]), [Float](repeating: 1, count: w * h), "no outline, no extra weight")
    }

    func testTheTermChangesOnlyTheBCEAndIsCheckedInRecipes() throws {
        let shape = [1, 1, 8, 8]
        var m = [Float](repeating: 0, count: 64)
        for y in 2..<6 { for x in 2..<6 { m[y * 8 + x] = 1 } }
        let logits = Tensor((0..<64).map { Float(($0 * 37) % 11) / 5 - 1 }, shape: shape), masks = Tensor(m, shape: shape)
        var config = SegmentationLossConfig(kind: .bce)
        let plain = config(logits: logits, masks: masks).item
        config.boundaryWeight = 4
        let weights = Tensor(BoundaryWeights.map(m, count: 1, width: 8, height: 8, weight: 4, sigma: 1), shape: shape)
        XCTAssertGreaterThan(config(logits: logits, masks: masks, pixelWeight: weights).item, plain)
        XCTAssertTrue(config.problems.isEmpty)
        config.kind = .dice
        XCTAssertEqual(config.problems.count, 1, "a Dice loss has no BCE term to weight")
        config.kind = .bceDice; config.boundarySigma = 0
        XCTAssertEqual(config.problems.count, 1)
    }

    /// A U-Net recipe refuses a bad term; a classifier recipe, whose step does not read it, refuses it at all.
    func testRecipesCheckTheTerm() throws {
        var unet = tinyConfig(data: URL(fileURLWithPath: "/nonexistent"), epochs: 1)
        unet.loss.boundaryWeight = -1
        XCTAssertThrowsError(try unet.validate()) { XCTAssertTrue("\($0)".contains("boundaryWeight"), "\($0)") }
        unet.loss.boundaryWeight = 5
        XCTAssertNoThrow(try unet.validate())
        var multitask = ClassifyConfig()
        multitask.data = unet.data
        XCTAssertNoThrow(try multitask.validate())
        multitask.segmentationLoss.boundaryWeight = 5
        XCTAssertThrowsError(try multitask.validate()) { XCTAssertTrue("\($0)".contains("U-Net recipes only"), "\($0)") }
    }
}
