import Foundation
import SonoBase

extension SegmentationReport {
    /// Columns of `csv()`, in order. Metric columns are ratios in [0, 1] except `hd95`/`assd` (in the row's
    /// `distance_unit`) and `fp_area_mm2`; counts are pixels. Changing this breaks downstream scripts, so it is
    /// pinned by a test.
    public static let csvHeader = [
        "id", "width", "height", "threshold",
        "dice", "iou", "precision", "recall", "specificity", "accuracy", "auc", "rmse", "hd95", "assd",
        "distance_unit", "tp", "fp", "fn", "tn", "gt_pixels", "pred_pixels", "fp_area_mm2",
    ]

    /// One line per image under `csvHeader` (RFC 4180 quoting, `\n` line ends). Real numbers are written with
    /// six decimals; a missing value (nil) is an empty field.
    public func csv() -> String {
        var lines = [SegmentationReport.csvHeader.joined(separator: ",")]
        for row in rows {
            let m = row.metrics
            let fields: [String] = [
                CSVField.escape(row.id), String(m.width), String(m.height), CSVField.number(Double(m.threshold)),
                CSVField.number(m.dice), CSVField.number(m.iou), CSVField.number(m.precision),
                CSVField.number(m.recall), CSVField.number(m.specificity), CSVField.number(m.accuracy),
                CSVField.number(m.auc), CSVField.number(m.rmse), CSVField.number(m.hd95), CSVField.number(m.assd),
                m.distanceUnit.rawValue, String(m.truePositives), String(m.falsePositives),
                String(m.falseNegatives), String(m.trueNegatives), String(m.truthPixels), String(m.predictedPixels),
                CSVField.number(m.falsePositiveAreaMM2),
            ]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The whole report (rows, aggregates, bootstrap settings) as pretty-printed JSON with sorted keys, so the
    /// same report always gives the same bytes. Missing values are omitted keys; a non-finite number (an RMSE
    /// of a probability map containing NaN) is written as the string "nan", "inf" or "-inf" instead of failing.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf",
                                                                      negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// Reads a report written by `json()`.
    public static func decode(json data: Data) throws -> SegmentationReport {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf",
                                                                        negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(SegmentationReport.self, from: data)
    }
}
