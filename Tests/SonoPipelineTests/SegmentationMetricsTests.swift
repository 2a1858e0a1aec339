@testable import SonoMetrics
import XCTest
import SonoImaging
@testable import SonoPipeline

final class SegmentationMetricsTests: XCTestCase {
    func testPerfectPrediction() throws {
        let truth = Grid.rectangle(width: 8, height: 8, x0: 2, y0: 3, w: 3, h: 4)
        let m = try SegmentationMetrics(probabilities: Grid.probabilities(truth), truth: truth, width: 8, height: 8)
        XCTAssertEqual(m.dice, 1)
        XCTAssertEqual(m.iou, 1)
        XCTAssertEqual(m.precision, 1)
        XCTAssertEqual(m.recall, 1)
        XCTAssertEqual(m.specificity, 1)
        XCTAssertEqual(m.accuracy, 1)
        XCTAssertEqual(m.auc, 1)
        XCTAssertEqual(m.rmse, 0)
        XCTAssertEqual(m.hd95, 0)
        XCTAssertEqual(m.assd, 0)
        XCTAssertEqual([m.truePositives, m.falsePositives, m.falseNegatives, m.trueNegatives], [12, 0, 0, 52])
        XCTAssertEqual(m.distanceUnit, .pixels)
    }

    func testBothEmpty() throws {
        let truth = [UInt8](repeating: 0, count: 25)
        let m = try SegmentationMetrics(probabilities: [Float](repeating: 0.1, count: 25), truth: truth,
                                        width: 5, height: 5)
        XCTAssertEqual(m.dice, 1)
        XCTAssertEqual(m.iou, 1)
        XCTAssertEqual(m.precision, 1)
        XCTAssertEqual(m.recall, 1)
        XCTAssertEqual(m.specificity, 1)
        XCTAssertEqual(m.hd95, 0)
        XCTAssertEqual(m.assd, 0)
        XCTAssertNil(m.auc, "one class only: ROC undefined")
        XCTAssertEqual(m.rmse, 0.1, accuracy: 1e-7)
        XCTAssertTrue(m.truthIsEmpty)
    }

    func testEmptyPredictionOnLesion() throws {
        let truth = Grid.rectangle(width: 6, height: 6, x0: 1, y0: 1, w: 2, h: 2)
        let m = try SegmentationMetrics(probabilities: [Float](repeating: 0, count: 36), truth: truth,
                                        width: 6, height: 6)
        XCTAssertEqual(m.dice, 0)
        XCTAssertEqual(m.iou, 0)
        XCTAssertEqual(m.precision, 0, "nothing predicted on a lesion image is not a perfect precision")
        XCTAssertEqual(m.recall, 0)
        XCTAssertEqual(m.specificity, 1)
        XCTAssertNil(m.hd95)
        XCTAssertNil(m.assd)
        XCTAssertEqual(m.auc, 0.5, "constant scores rank nothing")
    }

    func testLesionPredictedOnNormalImage() throws {
        let prediction = Grid.rectangle(width: 6, height: 6, x0: 0, y0: 0, w: 3, h: 1)
        let m = try SegmentationMetrics(probabilities: Grid.probabilities(prediction),
                                        truth: [UInt8](repeating: 0, count: 36), width: 6, height: 6,
                                        spacing: PixelSpacing(x: 0.5, y: 0.2))
        XCTAssertEqual(m.dice, 0)
        XCTAssertEqual(m.iou, 0)
        XCTAssertEqual(m.precision, 0)
        XCTAssertEqual(m.recall, 0)
        XCTAssertEqual(m.specificity, 33.0 / 36)
        XCTAssertNil(m.hd95)
        XCTAssertNil(m.assd)
        XCTAssertEqual(m.falsePositives, 3)
        XCTAssertEqual(m.falsePositiveAreaMM2!, 0.3, accuracy: 1e-12)
        XCTAssertEqual(m.distanceUnit, .millimetres)
    }

    /// A 4 × 4 square shifted one pixel right. Overlap 12 of 16 + 16: Dice 24/32 = 0.75, IoU 12/20 = 0.6.
    /// Boundaries are the 12-pixel rings; per ring, 6 pixels lie on the other ring (distance 0) and 6 are one
    /// pixel from it, so the 24 pooled distances are twelve 0s and twelve 1s: HD95 = 1, ASSD = 0.5.
    func testOnePixelShiftOfSquare() throws {
        let truth = Grid.rectangle(width: 10, height: 10, x0: 2, y0: 2, w: 4, h: 4)
        let shifted = Grid.rectangle(width: 10, height: 10, x0: 3, y0: 2, w: 4, h: 4)
        let m = try SegmentationMetrics(probabilities: Grid.probabilities(shifted), truth: truth,
                                        width: 10, height: 10)
        XCTAssertEqual(m.dice, 0.75)
        XCTAssertEqual(m.iou, 0.6)
        XCTAssertEqual(m.precision, 0.75)
        XCTAssertEqual(m.recall, 0.75)
        XCTAssertEqual(m.hd95, 1)
        XCTAssertEqual(m.assd, 0.5)
        XCTAssertEqual(m.rmse, (8.0 / 100).squareRoot(), accuracy: 1e-12)

        // Same shift with 0.5 mm × 2 mm pixels: the shift is along x, so distances become 0.5 mm.
        let mm = try SegmentationMetrics(probabilities: Grid.probabilities(shifted), truth: truth, width: 10,
                                         height: 10, spacing: PixelSpacing(x: 0.5, y: 2))
        XCTAssertEqual(mm.hd95, 0.5)
        XCTAssertEqual(mm.assd, 0.25)
    }

    /// A 6 × 6 square moved by 2 in x; distances counted by hand below. Pooled: sixteen 0s, eight 1s, sixteen
    /// 2s, so HD95 (position 0.95 · 39 = 37.05) is 2 and ASSD is 40 / 40 = 1.
    func testTwoPixelShiftSurfaceDistances() throws {
        // Rings of side 6 at x 0..5 (G) and 2..7 (P) in a 12 × 8 image, y 1..6.
        // P→G: P rows y=1,6: x=2..5 on G's ring (0), x=6,7 → 1, 2. Sides x=2 (y 2..5): G ring (0,y)… nearest G
        // boundary pixel is (2,1)/(2,6) or (0,y)/(5,y): x=2,y=2 → (2,1) at 1; y=3 → min(2 to (0,3), 2 to (2,1),
        // 3 to (5,3)) = 2; y=4 → 2; y=5 → 1. x=7 side: nearest (5,y) at 2 for all four.
        // So P→G = [0,0,0,0,1,2]×2 rows + [1,2,2,1] + [2,2,2,2]; G→P is the mirror image, same multiset.
        let truth = Grid.rectangle(width: 12, height: 8, x0: 0, y0: 1, w: 6, h: 6)
        let shifted = Grid.rectangle(width: 12, height: 8, x0: 2, y0: 1, w: 6, h: 6)
        let m = try SegmentationMetrics(probabilities: Grid.probabilities(shifted), truth: truth, width: 12,
                                        height: 8)
        let directed: [Double] = [0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 2, 1, 2, 2, 1, 2, 2, 2, 2]
        XCTAssertEqual(m.assd!, directed.reduce(0, +) / 20, accuracy: 1e-12)
        XCTAssertEqual(m.hd95, 2)
        XCTAssertEqual(m.dice, 2.0 * 24 / 72, accuracy: 1e-12)
    }

    /// 4 × 4 grid worked by hand: prediction ≥ 0.5 at (0,0) (1,0) (2,0) (1,1) (3,2); truth the top-left 2 × 2.
    func testSmallGridPrecisionRecallAUCAndRMSE() throws {
        let truth = Grid.parse(["##..", "##..", "....", "...."])
        let probabilities: [Float] = [0.9, 0.6, 0.7, 0,
                                      0.2, 0.8, 0, 0,
                                      0, 0, 0, 0.55,
                                      0, 0, 0, 0]
        let m = try SegmentationMetrics(probabilities: probabilities, truth: truth, width: 4, height: 4)
        XCTAssertEqual([m.truePositives, m.falsePositives, m.falseNegatives, m.trueNegatives], [3, 2, 1, 10])
        XCTAssertEqual(m.precision, 0.6)
        XCTAssertEqual(m.recall, 0.75)
        XCTAssertEqual(m.dice, 6.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(m.iou, 0.5)
        XCTAssertEqual(m.specificity, 10.0 / 12, accuracy: 1e-12)
        XCTAssertEqual(m.accuracy, 13.0 / 16)
        // Positives 0.9, 0.6, 0.2, 0.8 against negatives 0.7, 0.55 and ten 0s: 12 + 11 + 10 + 12 = 45 of 48.
        XCTAssertEqual(m.auc!, 45.0 / 48, accuracy: 1e-12)
        // (0.1² + 0.4² + 0.8² + 0.2²) + (0.7² + 0.55²) = 1.6425 over 16 pixels.
        XCTAssertEqual(m.rmse, (1.6425 / 16).squareRoot(), accuracy: 1e-6)
        // Higher threshold drops 0.55 and 0.6: TP 2, FP 1.
        let strict = try SegmentationMetrics(probabilities: probabilities, truth: truth, width: 4, height: 4,
                                             threshold: 0.65)
        XCTAssertEqual(strict.precision, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(strict.recall, 0.5)
        XCTAssertEqual(strict.auc, m.auc, "AUC does not depend on the threshold")
    }

    func testFloatAnd255MasksAgreeWithBinary() throws {
        let truth = Grid.rectangle(width: 7, height: 5, x0: 1, y0: 1, w: 3, h: 2)
        var probabilities = [Float](repeating: 0.2, count: 35)
        probabilities[8] = 0.9
        probabilities[30] = 0.7
        let reference = try SegmentationMetrics(probabilities: probabilities, truth: truth, width: 7, height: 5)
        let floats = try SegmentationMetrics(probabilities: probabilities, truth: truth.map { Float($0) },
                                             width: 7, height: 5)
        let bytes255 = try SegmentationMetrics(probabilities: probabilities, truth: truth.map { $0 * 255 },
                                               width: 7, height: 5)
        XCTAssertEqual(floats, reference)
        XCTAssertEqual(bytes255, reference)
    }

    func testSizeMismatchThrows() {
        XCTAssertThrowsError(try SegmentationMetrics(probabilities: [0, 1, 0], truth: [UInt8](repeating: 0, count: 4),
                                                     width: 2, height: 2)) { error in
            XCTAssertEqual(error as? MetricsError,
                           .sizeMismatch("probability map has 3 values, expected 2×2 = 4"))
        }
        XCTAssertThrowsError(try SegmentationMetrics(probabilities: [0, 1, 0, 0], truth: [UInt8](repeating: 0, count: 5),
                                                     width: 2, height: 2))
    }

    func testLesionTouchingTheImageEdgeHasAClosedBoundary() throws {
        // The whole image is lesion: every pixel is a boundary pixel only if it is on the edge.
        let full = [Bool](repeating: true, count: 9)
        let boundary = MaskBoundary.boundary(of: full, width: 3, height: 3)
        XCTAssertEqual(boundary, [true, true, true, true, false, true, true, true, true])
        let mask = Grid.parse(["......", ".####.", ".####.", ".####.", ".#....", "......"]).map { $0 == 1 }
        XCTAssertEqual(MaskBoundary.boundary(of: mask, width: 6, height: 6).map { $0 ? UInt8(1) : 0 },
                       Grid.parse(["......", ".####.", ".#..#.", ".####.", ".#....", "......"]))
    }

    /// `evaluate --fill-holes/--largest-component` score the mask `segment` writes: a predicted ring around the
    /// lesion becomes perfect once filled, and a stray blob disappears with the largest component.
    func testPostprocessedPredictionIsScored() throws {
        let (w, h) = (12, 12)
        var truthPixels = [UInt8](repeating: 0, count: w * h)
        for y in 3..<8 { for x in 3..<8 { truthPixels[y * w + x] = 1 } }
        let truth = Mask(width: w, height: h, pixels: truthPixels)
        var p = truthPixels.map { Float($0) * 0.9 }
        p[5 * w + 5] = 0.2                        // a hole in the middle of the lesion
        p[10 * w + 10] = 0.8                      // a one-pixel false positive far away
        let probability = GrayImage(width: w, height: h, pixels: p)
        let raw = try SegmentationMetrics(probabilities: p, truth: truth, threshold: 0.5)
        XCTAssertEqual([raw.truePositives, raw.falsePositives, raw.falseNegatives], [24, 1, 1])

        let filled = MaskPostprocessing(fillHoles: true).mask(from: probability, threshold: 0.5)
        let f = try SegmentationMetrics(probabilities: p, prediction: filled, truth: truth, threshold: 0.5)
        XCTAssertEqual([f.truePositives, f.falsePositives, f.falseNegatives], [25, 1, 0])
        XCTAssertEqual(f.rmse, raw.rmse, "RMSE reads the probabilities, not the mask")

        let both = MaskPostprocessing(fillHoles: true, largestComponent: true).mask(from: probability, threshold: 0.5)
        let b = try SegmentationMetrics(probabilities: p, prediction: both, truth: truth, threshold: 0.5)
        XCTAssertEqual(b.dice, 1)
        XCTAssertEqual(MaskPostprocessing().mask(from: probability, threshold: 0.5).pixels, p.map { $0 >= 0.5 ? 1 : 0 },
                       "by default the mask is the threshold alone (the papers' metrics)")
        XCTAssertThrowsError(try SegmentationMetrics(probabilities: p, prediction: Mask(width: 4, height: 4), truth: truth, threshold: 0.5))
    }
}
