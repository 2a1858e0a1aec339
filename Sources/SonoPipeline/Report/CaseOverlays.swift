import SonoMetrics
import Foundation
import SonoBase
import SonoData
import SonoImaging

/// The best, median and worst images of an evaluation by Dice, drawn again with the prediction (red) over the
/// ground truth (green), into `folder/cases/` with `cases.json`, for the report.
public func writeCaseOverlays(_ model: Segmenter, samples: [Sample], report: SegmentationReport, threshold: Float? = nil,
                              postprocessing: MaskPostprocessing = MaskPostprocessing(), folder: URL) throws {
    let ranked = report.rows.sorted { $0.metrics.dice > $1.metrics.dice }
    guard !ranked.isEmpty else { return }
    let picks = [("best", ranked.first!), ("median", ranked[ranked.count / 2]), ("worst", ranked.last!)]
    let byID = Dictionary(samples.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    let cases = folder.appendingPathComponent("cases")
    try Folders.create(cases)
    var written: [HTMLReport.Case] = []
    for (kind, row) in picks {
        guard let sample = byID[row.id] else { continue }
        let loaded = try sample.load()
        guard let probability = try model.predict(image: loaded.image, flipTTA: false).lesion else { continue }
        let predicted = postprocessing.mask(from: probability, threshold: threshold ?? model.threshold)
        let overlay = Overlay.captioned(try Overlay.render(loaded.image, outlines: [(loaded.mask, .green), (predicted, .red)]),
                                        lines: [String(format: "%@  %@  Dice %.3f", kind, row.id, row.metrics.dice)])
        let file = "\(kind).png"
        try ImageIO.writePNG(overlay, to: cases.appendingPathComponent(file))
        written.append(HTMLReport.Case(kind: kind, id: row.id, dice: row.metrics.dice, file: file))
    }
    try JSONFiles.write(written, to: cases.appendingPathComponent("cases.json"))
}
