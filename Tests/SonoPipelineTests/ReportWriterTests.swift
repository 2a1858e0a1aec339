@testable import SonoMetrics
import XCTest
@testable import SonoPipeline

final class ReportWriterTests: XCTestCase {
    func testCSVHeaderIsPinned() {
        XCTAssertEqual(SegmentationReport.csvHeader.joined(separator: ","),
                       "id,width,height,threshold,dice,iou,precision,recall,specificity,accuracy,auc,rmse,hd95,assd,"
                       + "distance_unit,tp,fp,fn,tn,gt_pixels,pred_pixels,fp_area_mm2")
    }

    /// Shifted square: TP 12, FP 4, FN 4, TN 80; specificity 80/84; accuracy 0.92; AUC (960 + 24 + 160)/1344
    /// (score-1 positives beat score-0 negatives, ties count half); distances in mm (0.5 mm pixels).
    func testCSVRows() throws {
        var rows = try MetricsFixtures.modelA()
        rows[0].id = "a,\"b\""
        let csv = SegmentationReport(rows: rows, bootstrap: BootstrapSettings(resamples: 10)).csv()
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.count, 5, "header, three rows, trailing newline")
        XCTAssertEqual(lines[1], "\"a,\"\"b\"\"\",10,10,0.500000,1.000000,1.000000,1.000000,1.000000,1.000000,"
                       + "1.000000,1.000000,0.000000,0.000000,0.000000,mm,16,0,0,84,16,16,0.000000")
        XCTAssertEqual(lines[2], "shifted,10,10,0.500000,0.750000,0.600000,0.750000,0.750000,0.952381,0.920000,"
                       + "0.851190,0.282843,0.500000,0.250000,mm,12,4,4,80,16,16,1.000000")
        XCTAssertEqual(lines[3], "normal,10,10,0.500000,0.000000,0.000000,0.000000,0.000000,0.970000,0.970000,,"
                       + "0.173205,,,mm,0,3,0,97,0,3,0.750000")
        XCTAssertEqual(lines[4], "")
    }

    func testJSONRoundTripsAndIsStable() throws {
        let report = SegmentationReport(rows: try MetricsFixtures.modelA(),
                                        bootstrap: BootstrapSettings(resamples: 50, seed: 9))
        let data = try report.json()
        XCTAssertEqual(try SegmentationReport.decode(json: data), report)
        XCTAssertEqual(try SegmentationReport(rows: report.rows, bootstrap: report.bootstrap).json(), data)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"fractionPredictedEmpty\" : 0"), text)
        XCTAssertTrue(text.contains("\"seed\" : 9"))
    }

    /// A diverged model's NaN probabilities must not make the report unwritable.
    func testJSONWithNaNProbabilities() throws {
        var probabilities = [Float](repeating: 0, count: 4)
        probabilities[1] = .nan
        let row = SegmentationReport.Row(id: "nan", metrics: try SegmentationMetrics(
            probabilities: probabilities, truth: [UInt8]([0, 1, 0, 0]), width: 2, height: 2))
        XCTAssertTrue(row.metrics.rmse.isNaN)
        XCTAssertNil(row.metrics.auc)
        let report = SegmentationReport(rows: [row], bootstrap: BootstrapSettings(resamples: 5))
        let data = try report.json()
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"rmse\" : \"nan\""))
        XCTAssertTrue(try SegmentationReport.decode(json: data).rows[0].metrics.rmse.isNaN)
        XCTAssertTrue(report.csv().contains(",nan,"))
    }

    /// Baseline: Dice 1 and 0.75 → 0.875 ± 0.177 (std √(2 · 0.125²)); IoU 1 and 0.6 → 0.800 ± 0.283;
    /// RMSE 0 and √0.08 → 0.141 ± 0.200. One-image model: no std, so just the mean.
    func testSegmentationMarkdownIsPinned() throws {
        let rows = try MetricsFixtures.modelA()
        let baseline = SegmentationReport(rows: rows, bootstrap: BootstrapSettings(resamples: 10))
        let single = SegmentationReport(rows: [rows[0]], bootstrap: BootstrapSettings(resamples: 10))
        let markdown = MetricsMarkdown.segmentationTable([(name: "Baseline", report: baseline),
                                                          (name: "U-Net | ft", report: single)])
        XCTAssertEqual(markdown, """
            | Model | DSC | Jaccard | Precision | Recall | RMSE |
            | :-- | --: | --: | --: | --: | --: |
            | Baseline | 0.875 ± 0.177 | 0.800 ± 0.283 | 0.875 ± 0.177 | 0.875 ± 0.177 | 0.141 ± 0.200 |
            | U-Net \\| ft | 1.000 | 1.000 | 1.000 | 1.000 | 0.000 |

            """)
        // Over all images the normal one counts (Dice 0), and HD95 is missing there.
        let all = MetricsMarkdown.segmentationTable([(name: "Baseline", report: baseline)], scope: .all,
                                                    columns: [.dice, .hd95], digits: 2)
        XCTAssertEqual(all, """
            | Model | DSC | HD95 |
            | :-- | --: | --: |
            | Baseline | 0.58 ± 0.52 | 0.25 ± 0.35 |

            """)
    }
}
