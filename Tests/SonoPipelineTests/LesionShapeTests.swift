@testable import SonoDiagnosis
@testable import SonoMetrics
import Foundation
import SonoBase
import SonoImaging
@testable import SonoPipeline
import XCTest

/// Variant (e) of the diagnosis: the lexicon's shape signs, and the regression that adds them to the classifier.
final class LesionShapeTests: XCTestCase {
    func mask(_ w: Int, _ h: Int, _ inside: (Double, Double) -> Bool) -> Mask {
        var m = Mask(width: w, height: h)
        for y in 0..<h { for x in 0..<w where inside(Double(x), Double(y)) { m[x, y] = 1 } }
        return m
    }

    func testDiscEllipseAndStarScoreAsTheLexiconSays() throws {
        let flat = GrayImage(width: 120, height: 120, value: 0.5)
        let disc = try XCTUnwrap(LesionShape(image: flat, mask: mask(120, 120) { ($0 - 60) * ($0 - 60) + ($1 - 50) * ($1 - 50) <= 400 }))
        XCTAssertEqual(disc.circularity, 1, accuracy: 0.12)
        XCTAssertEqual(disc.solidity, 1, accuracy: 0.1)
        XCTAssertEqual(disc.logTallerThanWide, 0, accuracy: 0.05)
        XCTAssertEqual(disc.posteriorShadow, 0, accuracy: 1e-6, "a flat image has no shadow")
        let tall = try XCTUnwrap(LesionShape(image: flat, mask: mask(120, 120) { ($0 - 60) * ($0 - 60) / 100 + ($1 - 50) * ($1 - 50) / 900 <= 1 }))
        XCTAssertEqual(tall.logTallerThanWide, log(3.0), accuracy: 0.1)
        // a four-armed star: its hull is much larger than it, its outline much longer
        let star = try XCTUnwrap(LesionShape(image: flat, mask: mask(120, 120) { x, y in
            let (dx, dy) = (abs(x - 60), abs(y - 60))
            return (dx <= 4 && dy <= 30) || (dy <= 4 && dx <= 30)
        }))
        XCTAssertLessThan(star.solidity, 0.5)
        XCTAssertLessThan(star.circularity, disc.circularity - 0.4)
        XCTAssertNil(LesionShape(image: flat, mask: Mask(width: 120, height: 120)))
    }

    func testShadowBelowTheLesionIsNegative() throws {
        var image = GrayImage(width: 100, height: 100, value: 0.6)
        for y in 60..<100 { for x in 40..<60 { image[x, y] = 0.2 } }   // dark column below the lesion
        let shape = try XCTUnwrap(LesionShape(image: image, mask: mask(100, 100) { x, y in x >= 40 && x < 60 && y >= 40 && y < 60 }))
        XCTAssertEqual(shape.posteriorShadow, log(0.201 / 0.601), accuracy: 0.01)
    }

    func testHullAreaOfASquareAndATriangle() {
        XCTAssertEqual(LesionShape.hullArea([(0, 0), (2, 0), (2, 2), (0, 2), (1, 1)]), 4, accuracy: 1e-9)
        XCTAssertEqual(LesionShape.hullArea([(0, 0), (4, 0), (0, 3), (1, 1)]), 6, accuracy: 1e-9)
    }

    /// When the shape carries the label and the classifier does not, the study says so on both evaluations.
    func testShapeHeadStudyFindsInformationTheClassifierLacks() throws {
        var rng = SplitMix64(seed: 3)
        func evaluation(_ n: Int) -> DiagnosisEvaluation {
            let rows = (0..<n).map { i -> DiagnosisEvaluation.Row in
                let malignant = i % 2 == 0
                var r = DiagnosisEvaluation.Row(id: "\(i)", trueClass: malignant ? "malignant" : "benign", trueBirads: nil, hasLesion: true,
                                                lesionProbability: 1)
                r.malignancyProbability = Double(0.2 + 0.6 * rng.uniform())             // uninformative classifier
                r.shape = [0, malignant ? 0.5 : 0.9, 0.9, Double(rng.uniform() - 0.5)]  // circularity tells
                return r
            }
            return DiagnosisEvaluation(pathology: nil, birads: nil, presence: nil, presenceThreshold: 0.5, predictions: rows)
        }
        let study = try ShapeHeadStudy(fit: evaluation(60), score: evaluation(40))
        XCTAssertLessThan(study.crossValidatedAUC.logitOnly, 0.8)
        XCTAssertGreaterThan(study.crossValidatedAUC.withShape, 0.95)
        XCTAssertGreaterThan(study.withShape.auc ?? 0, 0.95)
        XCTAssertLessThan(study.ensemble.auc ?? 1, 0.8)
        XCTAssertTrue(study.markdown.contains("circularity"))
        XCTAssertThrowsError(try ShapeHeadStudy(fit: evaluation(10), score: evaluation(40)))
    }
}
