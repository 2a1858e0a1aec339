@testable import SonoMetrics
import XCTest
@testable import SonoPipeline

final class ClassificationReportTests: XCTestCase {
    /// Three classes; confusion (rows true, columns predicted)
    ///     benign    3 1 0
    ///     malignant 1 2 1
    ///     normal    0 0 2
    /// Each row's predicted class scores 0.8, the others 0.1.
    private func threeClassReport() throws -> ClassificationReport {
        let predictions: [(label: Int, predicted: Int)] = [
            (0, 0), (0, 0), (0, 0), (0, 1),
            (1, 0), (1, 1), (1, 1), (1, 2),
            (2, 2), (2, 2),
        ]
        let rows: [[Float]] = predictions.map { p in (0..<3).map { $0 == p.predicted ? 0.8 : 0.1 } }
        return try ClassificationReport(probabilities: rows, labels: predictions.map(\.label),
                                        classNames: ["benign", "malignant", "normal"])
    }

    func testHandComputedThreeClassMetrics() throws {
        let r = try threeClassReport()
        XCTAssertEqual(r.confusion, [[3, 1, 0], [1, 2, 1], [0, 0, 2]])
        XCTAssertEqual(r.samples, 10)
        XCTAssertEqual(r.accuracy, 0.7)
        // Recalls 3/4, 2/4, 2/2.
        XCTAssertEqual(r.perClass.map(\.recall), [0.75, 0.5, 1])
        XCTAssertEqual(r.balancedAccuracy, 0.75)
        // Precisions 3/4, 2/3, 2/3; F1 0.75, 4/7, 0.8.
        XCTAssertEqual(r.perClass[0].precision, 0.75)
        XCTAssertEqual(r.perClass[1].precision, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(r.perClass[2].precision, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(r.perClass[1].f1, 4.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(r.perClass[2].f1, 0.8, accuracy: 1e-12)
        XCTAssertEqual(r.macroF1, (0.75 + 4.0 / 7 + 0.8) / 3, accuracy: 1e-12)
        XCTAssertEqual(r.macroPrecision, (0.75 + 4.0 / 3) / 3, accuracy: 1e-12)
        XCTAssertEqual(r.macroRecall, 0.75, accuracy: 1e-12)
        XCTAssertEqual(r.perClass.map(\.support), [4, 4, 2])
        XCTAssertEqual(r.perClass.map(\.predicted), [4, 3, 3])
        // Benign one-vs-rest: positives score 0.8 ×3, 0.1; negatives 0.8, 0.1 ×5 → U = 3 · 5.5 + 2.5 = 19 of 24.
        XCTAssertEqual(r.perClass[0].auc!, 19.0 / 24, accuracy: 1e-12)
        XCTAssertNil(r.positiveClass)
        XCTAssertEqual(r.auc, r.macroAUC)
        // Malignant: positives 0.8 ×2, 0.1 ×2 vs negatives 0.8, 0.1 ×5 → 2 · 5.5 + 2 · 2.5 = 16 of 24.
        // Normal: positives 0.8 ×2 vs negatives 0.8, 0.1 ×7 → 2 · 7.5 = 15 of 16.
        XCTAssertEqual(r.perClass[1].auc!, 16.0 / 24, accuracy: 1e-12)
        XCTAssertEqual(r.perClass[2].auc!, 15.0 / 16, accuracy: 1e-12)
        XCTAssertEqual(r.macroAUC!, (19.0 / 24 + 16.0 / 24 + 15.0 / 16) / 3, accuracy: 1e-12)
    }

    /// Binary with ties (see `MannWhitneyAUCTests.testTiesCountHalf`): the headline AUC is class 1's, 6/9.
    func testBinaryUsesPositiveClassAUC() throws {
        let p1: [Float] = [0.9, 0.8, 0.8, 0.3, 0.8, 0.1]
        let r = try ClassificationReport(probabilities: p1.map { [1 - $0, $0] }, labels: [1, 1, 0, 1, 0, 0],
                                         classNames: ["benign", "malignant"])
        XCTAssertEqual(r.positiveClass, 1)
        XCTAssertEqual(r.auc!, 6.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(r.confusion, [[1, 2], [1, 2]])
        XCTAssertEqual(r.accuracy, 0.5)
        XCTAssertEqual(r.balancedAccuracy, 0.5)
        let benignPositive = try ClassificationReport(probabilities: p1.map { [1 - $0, $0] }, labels: [1, 1, 0, 1, 0, 0],
                                                      classNames: ["benign", "malignant"], positiveClass: 0)
        XCTAssertEqual(benignPositive.auc!, 6.0 / 9, accuracy: 1e-6, "1 − p ranks class 0 the same way")
    }

    func testConstantPredictionsGiveAUCOneHalf() throws {
        let r = try ClassificationReport(probabilities: [[Float]](repeating: [0.5, 0.5], count: 5),
                                         labels: [0, 1, 1, 0, 1], classNames: ["benign", "malignant"])
        XCTAssertEqual(r.auc, 0.5)
        XCTAssertEqual(r.confusion, [[2, 0], [3, 0]], "ties go to the first class")
        // Class 1 never predicted: precision 0 (zero_division = 0), F1 0; class 0 F1 = 2·0.4·1/1.4.
        XCTAssertEqual(r.perClass[1].precision, 0)
        XCTAssertEqual(r.macroF1, (0.8 / 1.4) / 2, accuracy: 1e-12)
        XCTAssertEqual(r.balancedAccuracy, 0.5)
    }

    func testClassAbsentFromLabelsAndPredictionsIsLeftOutOfMacroAverages() throws {
        let rows: [[Float]] = [[0.9, 0.1, 0], [0.2, 0.8, 0], [0.3, 0.7, 0]]
        let r = try ClassificationReport(probabilities: rows, labels: [0, 1, 0],
                                         classNames: ["benign", "malignant", "normal"])
        XCTAssertNil(r.perClass[2].auc)
        // benign P 1, R 0.5, F1 2/3; malignant P 0.5, R 1, F1 2/3; normal does not count.
        XCTAssertEqual(r.macroF1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(r.balancedAccuracy, 0.75)
    }

    func testInvalidInputsThrow() {
        XCTAssertThrowsError(try ClassificationReport(probabilities: [[0.5, 0.5]], labels: [2], classNames: ["a", "b"]))
        XCTAssertThrowsError(try ClassificationReport(probabilities: [[0.5]], labels: [0], classNames: ["a", "b"]))
        XCTAssertThrowsError(try ClassificationReport(probabilities: [], labels: [], classNames: ["a", "b"]))
        XCTAssertThrowsError(try ClassificationReport(probabilities: [[1]], labels: [0], classNames: ["a"]))
    }

    func testArgmaxTiesAndNaN() {
        XCTAssertEqual(ClassificationReport.argmax([0.2, 0.5, 0.5]), 1)
        XCTAssertEqual(ClassificationReport.argmax([.nan, 0.1, 0.05]), 1)
        XCTAssertEqual(ClassificationReport.argmax([-.infinity, .nan]), 0)
    }

    func testMarkdownTablesArePinned() throws {
        let three = try threeClassReport()
        let binary = try ClassificationReport(probabilities: [[0.5, 0.5], [0.5, 0.5]], labels: [0, 1],
                                              classNames: ["benign", "malignant"])
        XCTAssertEqual(MetricsMarkdown.classificationTable([(name: "ResNet", report: three),
                                                            (name: "Constant", report: binary)]), """
            | Model | Accuracy | Balanced acc. | Macro F1 | AUC |
            | :-- | --: | --: | --: | --: |
            | ResNet | 0.700 | 0.750 | 0.707 | 0.799 |
            | Constant | 0.500 | 0.500 | 0.333 | 0.500 |

            """)
        XCTAssertEqual(MetricsMarkdown.confusionMatrix(three), """
            | True \\ Predicted | benign | malignant | normal |
            | :-- | --: | --: | --: |
            | benign | 3 | 1 | 0 |
            | malignant | 1 | 2 | 1 |
            | normal | 0 | 0 | 2 |

            """)
    }

    func testJSONRoundTrip() throws {
        let r = try threeClassReport()
        let data = try JSONEncoder().encode(r)
        XCTAssertEqual(try JSONDecoder().decode(ClassificationReport.self, from: data), r)
    }
}
