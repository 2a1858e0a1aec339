@testable import SonoMetrics
import SonoBase
import XCTest
@testable import SonoPipeline

final class AggregationTests: XCTestCase {
    func testMeanStdMedianAndMissing() {
        var rng = SplitMix64(seed: 1)
        let s = MetricSummary([2, nil, 4, 4, 4, 5, nil, 5, 7, 9], rng: &rng)
        XCTAssertEqual(s.count, 8)
        XCTAssertEqual(s.missing, 2)
        XCTAssertEqual(s.mean, 5)
        // Σ(x − 5)² = 9 + 1 + 1 + 1 + 0 + 0 + 4 + 16 = 32; sample variance 32 / 7.
        XCTAssertEqual(s.std!, (32.0 / 7).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.median, 4.5)
        XCTAssertEqual(MetricSummary([3, 1, 2], rng: &rng).median, 2)
    }

    func testNoValuesAndOneValue() {
        var rng = SplitMix64(seed: 1)
        let none = MetricSummary([nil, nil], rng: &rng)
        XCTAssertEqual(none, MetricSummary(count: 0, missing: 2, mean: nil, std: nil, median: nil, ciLower: nil,
                                           ciUpper: nil))
        let one = MetricSummary([0.7], rng: &rng)
        XCTAssertEqual(one.mean, 0.7)
        XCTAssertNil(one.std, "sample std needs two values")
        XCTAssertEqual(one.ciLower, 0.7)
        XCTAssertEqual(one.ciUpper, 0.7)
    }

    func testBootstrapIntervalContainsMeanAndIsReproducible() {
        var source = SplitMix64(seed: 99)
        let values: [Double?] = (0..<60).map { _ in 0.5 + Double(source.nextIndex(below: 1000)) / 2000 }
        var a = SplitMix64(seed: 2024), b = SplitMix64(seed: 2024), c = SplitMix64(seed: 2025)
        let first = MetricSummary(values, rng: &a)
        let second = MetricSummary(values, rng: &b)
        let other = MetricSummary(values, rng: &c)
        XCTAssertEqual(first, second, "same seed, same interval")
        XCTAssertNotEqual(first.ciLower, other.ciLower, "another seed draws other resamples")
        let mean = first.mean!, lower = first.ciLower!, upper = first.ciUpper!
        XCTAssertLessThan(lower, mean)
        XCTAssertGreaterThan(upper, mean)
        // A 95 % interval of a mean of 60 values spans about ±2 standard errors.
        let standardError = first.std! / 60.0.squareRoot()
        XCTAssertEqual((upper - lower) / (2 * standardError), 1.96, accuracy: 0.35)
    }

    func testStreamsAreIndependentOfMetricOrder() {
        XCTAssertEqual(SplitMix64(seed: 5, label: "lesion/dice"), SplitMix64(seed: 5, label: "lesion/dice"))
        XCTAssertNotEqual(SplitMix64(seed: 5, label: "lesion/dice"), SplitMix64(seed: 5, label: "lesion/iou"))
        var rng = SplitMix64(seed: 11)
        for bound in [1, 2, 3, 7, 1000] {
            for _ in 0..<100 { XCTAssertTrue((0..<bound).contains(rng.nextIndex(below: bound))) }
        }
    }

    func testReportSplitsLesionAndNormalImages() throws {
        let rows = try MetricsFixtures.modelA()
        let report = SegmentationReport(rows: rows, bootstrap: BootstrapSettings(resamples: 200, seed: 3))
        XCTAssertEqual(report.lesion.images, 2)
        XCTAssertEqual(report.all.images, 3)
        XCTAssertEqual(report.lesion.dice.mean, 0.875)
        XCTAssertEqual(report.all.dice.mean!, 1.75 / 3, accuracy: 1e-12)
        XCTAssertEqual(report.lesion.hd95.missing, 0)
        XCTAssertEqual(report.all.hd95.missing, 1, "normal image with a prediction has no HD95")
        XCTAssertEqual(report.all.hd95.count, 2)
        XCTAssertEqual(report.normal.images, 1)
        XCTAssertEqual(report.normal.predictedEmpty, 0)
        XCTAssertEqual(report.normal.fractionPredictedEmpty, 0)
        XCTAssertEqual(report.normal.falsePositivePixels.mean, 3)
        XCTAssertEqual(report.normal.falsePositiveAreaMM2?.mean, 0.75, "3 px × 0.5 mm × 0.5 mm")
        XCTAssertEqual(report.normal.falsePositiveAreaMM2?.missing, 0)
    }

    func testNormalImagesPredictedEmpty() throws {
        let empty = [UInt8](repeating: 0, count: 16)
        var fp = [Float](repeating: 0, count: 16)
        fp[5] = 0.9
        fp[6] = 0.8
        let metrics = [
            try SegmentationMetrics(probabilities: [Float](repeating: 0.1, count: 16), truth: empty, width: 4, height: 4),
            try SegmentationMetrics(probabilities: fp, truth: empty, width: 4, height: 4),
            try SegmentationMetrics(probabilities: [Float](repeating: 0, count: 16), truth: empty, width: 4, height: 4),
        ]
        let normal = NormalImageSummary(metrics)
        XCTAssertEqual(normal.images, 3)
        XCTAssertEqual(normal.predictedEmpty, 2)
        XCTAssertEqual(normal.fractionPredictedEmpty!, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(normal.falsePositivePixels.mean!, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(normal.falsePositivePixels.median, 0)
        XCTAssertNil(normal.falsePositiveAreaMM2, "no spacing known")
    }

    func testCrossValidationAcrossFolds() throws {
        let rows = try MetricsFixtures.modelA()
        let perfect = rows[0], shifted = rows[1], normal = rows[2]
        let folds = [[perfect], [shifted], [perfect, shifted], [normal]].map { SegmentationReport(rows: $0) }
        let summary = CrossValidationSummary(reports: folds)
        XCTAssertEqual(summary.folds, 4)
        XCTAssertEqual(summary.dice.foldMeans, [1, 0.75, 0.875, nil], "a fold without lesion images has no mean")
        XCTAssertEqual(summary.dice.mean, 0.875)
        XCTAssertEqual(summary.dice.std!, 0.125, accuracy: 1e-12)
        XCTAssertEqual(summary.iou.mean!, 0.8, accuracy: 1e-12)
        XCTAssertEqual(summary.iou.std!, 0.2, accuracy: 1e-12)
        let markdown = MetricsMarkdown.crossValidationTable([(name: "U-Net (4-fold)", summary: summary)])
        XCTAssertEqual(markdown, """
            | Model | DSC | Jaccard | Precision | Recall | RMSE |
            | :-- | --: | --: | --: | --: | --: |
            | U-Net (4-fold) | 0.875 ± 0.125 | 0.800 ± 0.200 | 0.875 ± 0.125 | 0.875 ± 0.125 | 0.141 ± 0.141 |

            """)
    }
}

/// Reports built from masks whose metrics are worked out by hand in `SegmentationMetricsTests`.
enum MetricsFixtures {
    /// "perfect" (4 × 4 square found exactly), "shifted" (found one pixel right: Dice 0.75, IoU 0.6, RMSE √0.08),
    /// "normal" (no lesion, 3 pixels predicted), all 10 × 10 at 0.5 mm.
    static func modelA() throws -> [SegmentationReport.Row] {
        let spacing = PixelSpacing(isotropic: 0.5)
        let square = Grid.rectangle(width: 10, height: 10, x0: 2, y0: 2, w: 4, h: 4)
        let shifted = Grid.rectangle(width: 10, height: 10, x0: 3, y0: 2, w: 4, h: 4)
        let speck = Grid.rectangle(width: 10, height: 10, x0: 7, y0: 7, w: 3, h: 1)
        return [
            SegmentationReport.Row(id: "perfect", metrics: try SegmentationMetrics(
                probabilities: Grid.probabilities(square), truth: square, width: 10, height: 10, spacing: spacing)),
            SegmentationReport.Row(id: "shifted", metrics: try SegmentationMetrics(
                probabilities: Grid.probabilities(shifted), truth: square, width: 10, height: 10, spacing: spacing)),
            SegmentationReport.Row(id: "normal", metrics: try SegmentationMetrics(
                probabilities: Grid.probabilities(speck), truth: [UInt8](repeating: 0, count: 100), width: 10,
                height: 10, spacing: spacing)),
        ]
    }
}
