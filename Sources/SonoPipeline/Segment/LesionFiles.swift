import Foundation
import SonoBase
import SonoImaging
import SonoMetrics

/// The line every picture and summary a reader sees carries.
public enum ResearchUse {
    public static let notice = "Research use only. Not a medical device."
}

/// What `segment` writes for one image, whatever the model: the `mask` (STEM_mask.png, 0/255 at the input's
/// size), the probability (STEM_prob.png, × 255, exact for tools; STEM_heatmap.png, in colour over the image with
/// a scale bar, for people), a `suppressed` candidate (STEM_candidate_mask.png, dashed on the overlay), the
/// outline and each lesion's calipers on the image with a caption (STEM_overlay.png); and the image's summary row
/// and a row per lesion (measurements in mm when the pixel spacing is known; `seconds` is read once the files are
/// written). Each connected lesion is measured on its own: the image row carries the largest one's axes, depth
/// and box, and the total area.
func writeLesionFiles(_ input: SegmentInput, name stem: String, grey: GrayConversion, probability: GrayImage, mask: Mask,
                      suppressed: Mask? = nil, spacing: PixelSpacing?, caption: [String] = [], seconds: () -> Double,
                      out: URL) throws -> (summary: LesionSummary, lesions: [LesionRow]) {
    try Folders.create(out.appendingPathComponent(stem).deletingLastPathComponent())
    let perLesion = LesionMeasurements.perComponent(mask: mask, probability: probability, spacing: spacing)
    try ImageIO.writePNG(mask, to: out.appendingPathComponent("\(stem)_mask.png"))
    try ImageIO.writePNG(probability, to: out.appendingPathComponent("\(stem)_prob.png"))
    try ImageIO.writePNG(try Overlay.heatmap(grey.image, probability: probability), to: out.appendingPathComponent("\(stem)_heatmap.png"))
    if let suppressed { try ImageIO.writePNG(suppressed, to: out.appendingPathComponent("\(stem)_candidate_mask.png")) }
    let largest = perLesion.first
    let size: String
    if let m = largest {
        size = (m.measurements.maxDiameterMM.map { String(format: "lesion %.1f x %.1f mm, %.0f mm2, depth %.1f mm", $0, m.measurements.shortAxisMM ?? 0,
                                                            m.measurements.areaMM2 ?? 0, m.measurements.depthMM ?? 0) }
                ?? String(format: "lesion %.0f x %.0f px, depth %.0f px", m.measurements.maxDiameterPixels, m.measurements.shortAxisPixels,
                          m.measurements.depthPixels ?? 0)) + (perLesion.count > 1 ? " (largest of \(perLesion.count))" : "")
    } else {
        size = suppressed == nil ? "no lesion found" : "no lesion found (candidate below the presence cut-off, dashed)"
    }
    var drawn = try Overlay.render(grey.image, mask: mask)
    if let suppressed { drawn.drawOutline(suppressed, colour: RGB(255, 160, 0), dashed: true) }
    // The calipers of each lesion: long axis yellow, short axis cyan.
    for m in perLesion.map(\.measurements) {
        if let l = m.longAxis { drawn.drawLine(from: (Double(l[0]), Double(l[1])), to: (Double(l[2]), Double(l[3])), colour: .yellow) }
        if let a = m.shortAxis { drawn.drawLine(from: (a[0], a[1]), to: (a[2], a[3]), colour: RGB(0, 220, 255)) }
    }
    let overlay = Overlay.captioned(drawn, lines: [input.relativePath + "  " + size] + caption + [ResearchUse.notice])
    try ImageIO.writePNG(overlay, to: out.appendingPathComponent("\(stem)_overlay.png"))

    func meanProbability(_ m: Mask) -> Double {
        let p = zip(probability.pixels, m.pixels).filter { $0.1 == 1 }.map { Double($0.0) }
        return p.isEmpty ? 0 : p.reduce(0, +) / Double(p.count)
    }
    var row = LesionSummary(image: input.url.lastPathComponent, width: grey.image.width, height: grey.image.height)
    row.input = input.relativePath
    row.areaPixels = mask.area
    row.areaMM2 = spacing.map { Double(mask.area) * $0.pixelArea }
    row.lesionFound = mask.area > 0
    if let m = largest?.measurements {
        (row.maxDiameterPixels, row.maxDiameterMM, row.shortAxisPixels, row.shortAxisMM) = (m.maxDiameterPixels, m.maxDiameterMM, m.shortAxisPixels, m.shortAxisMM)
        (row.depthPixels, row.depthMM, row.tallerThanWide, row.orientationDegrees) = (m.depthPixels, m.depthMM, m.tallerThanWide, m.orientationDegrees)
        row.boundingBox = m.boundingBox.map { LesionSummary.Box(x: $0.x, y: $0.y, w: $0.width, h: $0.height) }
    }
    (row.components, row.channelsDiffered) = (perLesion.count, grey.channelsDiffered)
    row.suppressedAreaPixels = suppressed?.area
    row.meanProbability = meanProbability(mask)
    row.seconds = seconds()
    let lesions = perLesion.enumerated().map { k, c in
        LesionRow(input: input.relativePath, lesion: k + 1, measurements: c.measurements, meanProbability: c.meanProbability)
    }
    return (row, lesions)
}

/// One row of `lesions.csv` / `lesions.json`: one connected lesion of one image, largest first.
public struct LesionRow: Codable, Sendable, Equatable {
    public var input: String
    public var frame: Int?
    /// 1 for the largest lesion of the image, 2 for the next, …
    public var lesion: Int
    public var areaPixels: Int
    public var areaMM2: Double?
    public var maxDiameterPixels: Double
    public var maxDiameterMM: Double?
    public var shortAxisPixels: Double
    public var shortAxisMM: Double?
    public var depthPixels: Double?
    public var depthMM: Double?
    public var tallerThanWide: Double?
    public var boundingBox: LesionSummary.Box?
    public var orientationDegrees: Double?
    public var meanProbability: Double
    public var runID: String?

    enum CodingKeys: String, CodingKey {
        case input, frame, lesion, areaPixels = "area_px", areaMM2 = "area_mm2", maxDiameterPixels = "max_diameter_px"
        case maxDiameterMM = "max_diameter_mm", shortAxisPixels = "short_axis_px", shortAxisMM = "short_axis_mm"
        case depthPixels = "depth_px", depthMM = "depth_mm", tallerThanWide = "taller_than_wide", boundingBox = "bbox"
        case orientationDegrees = "orientation_deg", meanProbability = "mean_probability", runID = "run_id"
    }

    init(input: String, lesion: Int, measurements m: LesionMeasurements, meanProbability: Double) {
        (self.input, self.lesion, self.meanProbability) = (input, lesion, meanProbability)
        (areaPixels, areaMM2, maxDiameterPixels, maxDiameterMM) = (m.areaPixels, m.areaMM2, m.maxDiameterPixels, m.maxDiameterMM)
        (shortAxisPixels, shortAxisMM, depthPixels, depthMM) = (m.shortAxisPixels, m.shortAxisMM, m.depthPixels, m.depthMM)
        (tallerThanWide, orientationDegrees) = (m.tallerThanWide, m.orientationDegrees)
        boundingBox = m.boundingBox.map { LesionSummary.Box(x: $0.x, y: $0.y, w: $0.width, h: $0.height) }
    }

    static let template = LesionRow(input: "", lesion: 0, measurements: LesionMeasurements(mask: Mask(width: 1, height: 1), spacing: nil),
                                    meanProbability: 0)
}

extension LesionMeasurements {
    /// Each connected lesion of `mask` (8-connected), measured alone on its bounding box's crop and placed back
    /// in the image's coordinates, largest first (ties in raster order); with each one's mean probability under
    /// `probability`. Memory and time grow with the lesions' boxes, not with components × image.
    public static func perComponent(mask: Mask, probability: GrayImage, spacing: PixelSpacing?)
        -> [(mask: Mask, measurements: LesionMeasurements, meanProbability: Double)] {
        let c = ConnectedComponents(mask)
        guard c.count > 0 else { return [] }
        let w = mask.width
        var box = [(x0: Int, y0: Int, x1: Int, y1: Int)](repeating: (Int.max, Int.max, -1, -1), count: c.count)
        var sum = [Double](repeating: 0, count: c.count)
        for (i, label) in c.labels.enumerated() where label > 0 {
            let k = Int(label) - 1, x = i % w, y = i / w
            box[k] = (min(box[k].x0, x), min(box[k].y0, y), max(box[k].x1, x), max(box[k].y1, y))
            sum[k] += Double(probability.pixels[i])
        }
        let order = (0..<c.count).sorted { (c.areas[$0], -$0) > (c.areas[$1], -$1) }
        return order.map { k in
            let b = box[k], label = Int32(k + 1)
            let (cw, ch) = (b.x1 - b.x0 + 1, b.y1 - b.y0 + 1)
            var crop = Mask(width: cw, height: ch)
            for y in 0..<ch { for x in 0..<cw where c.labels[(b.y0 + y) * w + b.x0 + x] == label { crop.pixels[y * cw + x] = 1 } }
            var m = LesionMeasurements(mask: crop, spacing: spacing)
            m.place(at: (b.x0, b.y0), in: (mask.width, mask.height))
            return (crop, m, sum[k] / Double(c.areas[k]))
        }
    }

    /// Moves measurements made on a crop whose top-left pixel is `origin` into the image's coordinates.
    mutating func place(at origin: (x: Int, y: Int), in size: (width: Int, height: Int)) {
        (width, height) = size
        boundingBox?.x += origin.x
        boundingBox?.y += origin.y
        longAxis = longAxis.map { [$0[0] + origin.x, $0[1] + origin.y, $0[2] + origin.x, $0[3] + origin.y] }
        shortAxis = shortAxis.map { [$0[0] + Double(origin.x), $0[1] + Double(origin.y), $0[2] + Double(origin.x), $0[3] + Double(origin.y)] }
        depthPixels = depthPixels.map { $0 + Double(origin.y) }
        depthMM = depthPixels.flatMap { d in spacing.map { d * $0.y } }
    }
}
