import Foundation
import SonoBase
import SonoData
import SonoImaging

/// Post-processing and output choices for `sonoseg segment`.
public struct SegmentOptions: Codable, Sendable {
    /// Probability above which a pixel is lesion (nil: the model's own threshold).
    public var threshold: Float?
    /// The mask steps after the threshold: holes filled by default, the largest lesion alone when asked.
    public var postprocessing = MaskPostprocessing(fillHoles: true)
    /// Average with the horizontally mirrored prediction (twice the time).
    public var flipTTA = false
    /// Pixel size in millimetres, when known, for areas and diameters in mm.
    public var pixelSpacingMM: Double?
    /// Largest image accepted (width × height); larger files are refused from their header.
    public var maxPixels = ImageIO.defaultMaxPixels
    /// On an unreadable image: stop (`fail`), or list it in `skipped.csv` and go on with the rest (`skip`).
    public var onError = ErrorPolicy.fail
    /// Also write STEM_prob_hires.png and STEM_mask_hires.png at this size (the probability resized bilinearly).
    public var highResolution: OutputResolution?
    public init() {}
}

/// One row of `summary.csv` / `summary.json`.
public struct LesionSummary: Codable, Sendable {
    public var image: String
    /// Frame number (1-based) within a multi-frame file (DICOM cine); nil for a single image.
    public var frame: Int? = nil
    public var width: Int
    public var height: Int
    public var lesionFound: Bool
    public var areaPixels: Int
    public var areaMM2: Double?
    public var maxDiameterPixels: Double
    public var maxDiameterMM: Double?
    /// The short axis (longest chord perpendicular to the long axis, the maximum diameter), depth of the lesion's
    /// top below the image's top row (the skin line), and height / width (above 1: taller than wide); see
    /// `LesionMeasurements`.
    public var shortAxisPixels: Double = 0
    public var shortAxisMM: Double? = nil
    public var depthPixels: Double? = nil
    public var depthMM: Double? = nil
    public var tallerThanWide: Double? = nil
    /// Where the mm values' pixel size came from: the file ("ultrasound regions", "pixel spacing", "imager pixel
    /// spacing") or "--spacing"; nil: sizes in pixels only.
    public var spacingSource: String? = nil
    /// x, y, width, height of the lesion's bounding box (pixels).
    public var boundingBox: [Int]
    /// Major-axis angle in degrees, counter-clockwise on screen from the x axis, in [0, 180); nil for round lesions.
    public var orientationDegrees: Double?
    public var components: Int
    public var meanProbability: Double
    public var channelsDiffered: Bool
    public var seconds: Double
    /// Predicted class and its probability, for models with a classification head (`class`,
    /// `classProbability` in JSON; `class`, `class_probability` in the CSV); nil otherwise.
    public var className: String? = nil
    public var classProbability: Double? = nil
    /// The shipped diagnosis (`models/diagnosis`), when it ran: calibrated probability of a lesion, pathology
    /// with the probability of malignancy, BI-RADS with its probability.
    public var lesionProbability: Double? = nil
    public var pathology: String? = nil
    public var malignancyProbability: Double? = nil
    public var birads: String? = nil
    public var biradsProbability: Double? = nil

    /// Which model made the row, at which threshold, with which SonoSeg, when (ISO 8601, UTC).
    public var model = ""
    public var modelSHA256 = ""
    public var threshold: Float = 0
    public var sonosegVersion = SonoSegVersion.current
    public var processedAt = ""

    /// The same names as summary.csv's columns (the bounding box is one array here, four columns there).
    enum CodingKeys: String, CodingKey {
        case image, frame, width, height, lesionFound = "lesion_found", areaPixels = "area_px", areaMM2 = "area_mm2"
        case maxDiameterPixels = "max_diameter_px", maxDiameterMM = "max_diameter_mm", boundingBox = "bbox"
        case shortAxisPixels = "short_axis_px", shortAxisMM = "short_axis_mm", depthPixels = "depth_px", depthMM = "depth_mm"
        case tallerThanWide = "taller_than_wide", spacingSource = "spacing_source"
        case orientationDegrees = "orientation_deg", components, meanProbability = "mean_probability"
        case channelsDiffered = "channels_differed", seconds
        case className = "class", classProbability = "class_probability"
        case lesionProbability = "lesion_probability", pathology, malignancyProbability = "malignancy_probability", birads
        case biradsProbability = "birads_probability"
        case model, modelSHA256 = "model_sha256", threshold, sonosegVersion = "sonoseg_version", processedAt = "processed_at"
    }
}

/// Image files under the given paths (folders are listed, sorted naturally; with `recursive`, their subfolders
/// too). Files whose name marks them as masks (`_mask`) are left out, with a note, since users point at dataset
/// folders; files of other formats are named in one line.
public func collectImages(_ paths: [URL], recursive: Bool = false, log: (String) -> Void) throws -> [URL] {
    let extensions: Set<String> = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "dcm", "dicom"]
    // Hospital exports often name DICOM files without an extension (IM0001): those are told by their content.
    func isDICOM(_ f: URL) -> Bool {
        guard f.pathExtension.isEmpty, let h = try? FileHandle(forReadingFrom: f) else { return false }
        defer { try? h.close() }
        return (try? h.read(upToCount: 132)).map { ImageFormat.detect([UInt8]($0)) == .dicom } ?? false
    }
    var out: [URL] = [], skippedMasks = 0, ignored: [String] = []
    func list(_ folder: URL) throws {
        let entries = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey])
            .sorted { $0.lastPathComponent.localizedStandardCompare($1.lastPathComponent) == .orderedAscending }
        for f in entries where !f.lastPathComponent.hasPrefix(".") {
            if (try? f.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true {
                if recursive { try list(f) }
                continue
            }
            guard extensions.contains(f.pathExtension.lowercased()) || isDICOM(f) else { ignored.append(f.lastPathComponent); continue }
            if f.deletingPathExtension().lastPathComponent.contains("_mask") { skippedMasks += 1; continue }
            out.append(f)
        }
    }
    for path in paths {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir) else {
            throw PipelineError.unreadable(path.path, "no such file or folder")
        }
        if isDir.boolValue { try list(path) } else { out.append(path) }
    }
    if skippedMasks > 0 { log("left out \(skippedMasks) files named *_mask* (ground-truth masks, not images)") }
    if !ignored.isEmpty {
        log("ignored \(ignored.count) files that are not PNG, JPEG, BMP, TIFF or DICOM: " + ignored.prefix(5).joined(separator: ", ")
            + (ignored.count > 5 ? ", …" : ""))
    }
    if out.isEmpty { throw PipelineError.emptyDataset("no images (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .dcm or DICOM without extension) in \(paths.map(\.path).joined(separator: ", "))") }
    return out
}

/// The output name of each input: its file stem, or, where two inputs share a stem, the stem with the format
/// (`b22-jpg`, `b22-bmp`), then the parent folders (`nest/a/b22`) until every name is unique, so that two inputs
/// never write one output file.
public func outputNames(_ images: [URL]) -> [String] {
    var names = images.map { $0.deletingPathExtension().lastPathComponent }
    func collisions() -> Set<String> {
        Set(Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys)
    }
    // Same stem, other format (b22.jpg, b22.bmp): the format tells them apart.
    for (_, group) in Dictionary(grouping: names.indices, by: { names[$0] }) where group.count > 1 {
        let formats = group.map { images[$0].pathExtension.lowercased() }
        if Set(formats).count == group.count { for (i, f) in zip(group, formats) { names[i] += "-" + f } }
    }
    var clash = collisions()
    var depth = 1
    clash = collisions()
    while !clash.isEmpty && depth < 16 {
        for i in names.indices where clash.contains(names[i]) {
            let folders = images[i].deletingLastPathComponent().pathComponents.suffix(depth)
            names[i] = (folders + [names[i].split(separator: "/").last.map(String.init) ?? names[i]]).joined(separator: "/")
        }
        depth += 1
        clash = collisions()
    }
    return names
}

/// Segments each image and writes STEM_mask.png (0/255 at the input's size), STEM_prob.png (probability ×
/// 255), STEM_overlay.png (lesion outline on the image), then summary.csv and summary.json.
///
/// With a `diagnoser`, each image also gets lesion presence, pathology and BI-RADS; an image it calls lesion-free
/// gets an empty mask (no outline of noise), whatever the threshold left.
public func segment(_ images: [URL], model: ImagePredictor, options: SegmentOptions, diagnoser: Diagnoser? = nil, out: URL,
                    log: (String) -> Void) throws -> [LesionSummary] {
    guard model.segments else {
        throw PipelineError.invalidConfig("\(model.url.path) is a classifier without a segmentation output; use `sonoseg classify evaluate`")
    }
    let lock = try FolderLock(out, purpose: "segmenting")
    defer { withExtendedLifetime(lock) {} }
    let threshold = options.threshold ?? model.threshold
    let provenance = Provenance(model: model, threshold: threshold)
    if let diagnoser, provenance.sha256 != diagnoser.manifest.segmenterSHA256 {
        log("note: \(diagnoser.folder.path) was calibrated on another segmenter's maps; lesion presence probabilities may be off for \(model.url.lastPathComponent)")
    }
    var rows: [LesionSummary] = [], skipped: [(String, String)] = []
    let modelName = model.url.deletingLastPathComponent().lastPathComponent + "/" + model.url.lastPathComponent
    for (url, name) in zip(images, outputNames(images)) {
        var started = Date()
        let scan: Scan
        do { scan = try ImageIO.readScan(url, maxPixels: options.maxPixels) } catch {
            guard options.onError == .skip else { throw error }
            skipped.append((url.path, "\(error)"))
            log("skipped \(error)")
            continue
        }
        // The file's own calibration (DICOM) wins over --spacing, which is for files that carry none.
        let spacing = scan.spacingMM.map { PixelSpacing(x: $0.x, y: $0.y) } ?? options.pixelSpacingMM.map { PixelSpacing(isotropic: $0) }
        let spacingSource = scan.spacingSource ?? (options.pixelSpacingMM == nil ? nil : "--spacing")
        for (k, frame) in scan.frames.enumerated() {
            let grey = GrayConversion(frame)
            let prediction = try model.predict(image: grey.image, flipTTA: options.flipTTA)
            let probability = prediction.lesion ?? GrayImage(width: grey.image.width, height: grey.image.height)
            let predicted = prediction.classes.flatMap { row in
                model.classNames.map { names in (names[ClassificationReport.argmax(row)], Double(row.max() ?? 0)) }
            }
            var mask = options.postprocessing.mask(from: probability, threshold: threshold)
            let found = try diagnoser?.diagnose(image: grey.image, probability: probability, mask: mask)
            if let found, !found.lesionPresent { mask = Mask(width: mask.width, height: mask.height) }
            let caption = [String(format: "model %@, threshold %.2f", modelName, threshold)] + (found.map { [$0.summary] } ?? [])
            // A cine loop's frames are STEM_f001, STEM_f002, …
            let multi = scan.frames.count > 1
            var (_, row) = try writeLesionFiles(url, name: multi ? name + String(format: "_f%03d", k + 1) : name, grey: grey,
                                                probability: probability, mask: mask, spacing: spacing, caption: caption,
                                                seconds: { Date().timeIntervalSince(started) }, out: out)
            if let hires = options.highResolution {
                let (w, h) = hires.size(width: probability.width, height: probability.height)
                try writeHighResolution(probability: found?.lesionPresent == false ? GrayImage(width: w, height: h) : probability.resized(width: w, height: h),
                                        image: grey.image, stem: multi ? name + String(format: "_f%03d", k + 1) : name, threshold: threshold,
                                        postprocessing: options.postprocessing, out: out)
            }
            started = Date()
            (row.frame, row.spacingSource) = (multi ? k + 1 : nil, spacingSource)
            (row.className, row.classProbability) = (predicted?.0, predicted?.1)
            provenance.stamp(&row)
            if let found {
                (row.lesionProbability, row.pathology, row.malignancyProbability) = (found.lesionProbability, found.pathology, found.malignancyProbability)
                (row.birads, row.biradsProbability) = (found.birads, found.biradsProbability)
            }
            rows.append(row)
            let diagnosis = (predicted.map { String(format: "; class %@ (p = %.3f)", $0.0, $0.1) } ?? "") + (found.map { "; " + $0.summary } ?? "")
            log(String(format: "%@%@: %@%@ (%.2fs)", row.image, multi ? " frame \(k + 1)" : "",
                       row.lesionFound ? "lesion \(row.areaPixels) px, max diameter \(String(format: "%.1f", row.maxDiameterPixels)) px" : "no lesion found",
                       diagnosis, row.seconds))
        }
    }
    try writeSummaries(rows, lesions: rows, to: out)
    if !skipped.isEmpty {
        let csv = "file,reason\n" + skipped.map { CSVField.escape($0.0) + "," + CSVField.escape($0.1) }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(csv.utf8), to: out.appendingPathComponent("skipped.csv"))
        log("\(skipped.count) of \(images.count) images skipped (listed in \(out.path)/skipped.csv)")
    }
    return rows
}

/// What `segment` writes for one image, whatever the model: the `mask` (STEM_mask.png, 0/255 at the input's
/// size), the probability (STEM_prob.png, × 255, exact for tools; STEM_heatmap.png, in colour over the image with
/// a scale bar, for people), the outline and calipers on the image with a caption (STEM_overlay.png), and the image's summary row (measurements in mm when the pixel spacing is known;
/// `seconds` is read once the files are written).
func writeLesionFiles(_ url: URL, name stem: String, grey: GrayConversion, probability: GrayImage, mask: Mask,
                      spacing: PixelSpacing?, caption: [String] = [], seconds: () -> Double, out: URL) throws -> (mask: Mask, summary: LesionSummary) {
    let m = LesionMeasurements(mask: mask, spacing: spacing)
    try ImageIO.writePNG(mask, to: out.appendingPathComponent("\(stem)_mask.png"))
    try ImageIO.writePNG(probability, to: out.appendingPathComponent("\(stem)_prob.png"))
    try ImageIO.writePNG(try Overlay.heatmap(grey.image, probability: probability), to: out.appendingPathComponent("\(stem)_heatmap.png"))
    let size = m.areaPixels == 0 ? "no lesion found"
        : m.maxDiameterMM.map { String(format: "lesion %.1f x %.1f mm, %.0f mm2, depth %.1f mm", $0, m.shortAxisMM ?? 0, m.areaMM2 ?? 0, m.depthMM ?? 0) }
          ?? String(format: "lesion %.0f x %.0f px, depth %.0f px", m.maxDiameterPixels, m.shortAxisPixels, m.depthPixels ?? 0)
    var drawn = try Overlay.render(grey.image, mask: mask)
    // The calipers: long axis yellow, short axis cyan.
    if let l = m.longAxis { drawn.drawLine(from: (Double(l[0]), Double(l[1])), to: (Double(l[2]), Double(l[3])), colour: .yellow) }
    if let a = m.shortAxis { drawn.drawLine(from: (a[0], a[1]), to: (a[2], a[3]), colour: RGB(0, 220, 255)) }
    let overlay = Overlay.captioned(drawn, lines: [url.lastPathComponent + "  " + size] + caption)
    try ImageIO.writePNG(overlay, to: out.appendingPathComponent("\(stem)_overlay.png"))
    let lesionProbs = zip(probability.pixels, mask.pixels).filter { $0.1 == 1 }.map { Double($0.0) }
    let box = m.boundingBox.map { [$0.x, $0.y, $0.width, $0.height] } ?? []
    // The input's file name, with the folders its output name needed to be unique ("a/x.png").
    let folders = stem.split(separator: "/").dropLast().map { $0 + "/" }.joined()
    let image = folders + url.lastPathComponent
    let row = LesionSummary(image: image, width: grey.image.width, height: grey.image.height,
                            lesionFound: m.areaPixels > 0, areaPixels: m.areaPixels, areaMM2: m.areaMM2,
                            maxDiameterPixels: m.maxDiameterPixels, maxDiameterMM: m.maxDiameterMM,
                            shortAxisPixels: m.shortAxisPixels, shortAxisMM: m.shortAxisMM, depthPixels: m.depthPixels,
                            depthMM: m.depthMM, tallerThanWide: m.tallerThanWide, boundingBox: box,
                            orientationDegrees: m.orientationDegrees, components: m.componentCount,
                            meanProbability: lesionProbs.isEmpty ? 0 : lesionProbs.reduce(0, +) / Double(lesionProbs.count),
                            channelsDiffered: grey.channelsDiffered, seconds: seconds())
    return (mask, row)
}

/// summary.json (`rows`, which may carry more than the lesion) and summary.csv (`lesions`), atomically.
func writeSummaries<Row: Encodable>(_ rows: [Row], lesions: [LesionSummary], to out: URL) throws {
    try JSONFiles.write(rows, to: out.appendingPathComponent("summary.json"))
    try AtomicFile.write(Data(summaryCSV(lesions).utf8), to: out.appendingPathComponent("summary.csv"))
}

func summaryCSV(_ rows: [LesionSummary]) -> String {
    func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "" }
    func f4(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "" }
    var s = "image,frame,width,height,lesion_found,area_px,area_mm2,max_diameter_px,max_diameter_mm,short_axis_px,short_axis_mm,depth_px,depth_mm,taller_than_wide,spacing_source,bbox_x,bbox_y,bbox_w,bbox_h,orientation_deg,components,mean_probability,class,class_probability,lesion_probability,pathology,malignancy_probability,birads,birads_probability,model,model_sha256,threshold,sonoseg_version,processed_at\n"
    for r in rows {
        let b = r.boundingBox.count == 4 ? r.boundingBox.map(String.init) : ["", "", "", ""]
        s += "\(CSVField.escape(r.image)),\(r.frame.map(String.init) ?? ""),\(r.width),\(r.height),\(r.lesionFound),\(r.areaPixels),\(f(r.areaMM2)),\(f(r.maxDiameterPixels)),\(f(r.maxDiameterMM)),"
        s += "\(f(r.shortAxisPixels)),\(f(r.shortAxisMM)),\(f(r.depthPixels)),\(f(r.depthMM)),\(f(r.tallerThanWide)),\(r.spacingSource ?? ""),"
        s += b.joined(separator: ",") + ",\(f(r.orientationDegrees)),\(r.components),\(f(r.meanProbability)),"
        s += "\(r.className ?? ""),\(r.classProbability.map { String(format: "%.4f", $0) } ?? ""),"
        s += "\(f4(r.lesionProbability)),\(r.pathology ?? ""),\(f4(r.malignancyProbability)),\(r.birads ?? ""),\(f4(r.biradsProbability)),"
        s += [CSVField.escape(r.model), r.modelSHA256, String(format: "%.4f", r.threshold), r.sonosegVersion, r.processedAt].joined(separator: ",") + "\n"
    }
    return s
}

/// SonoSeg's release, written into every result (`sonoseg --version`).
public enum SonoSegVersion {
    public static let current = "0.10.0"
}

/// What every summary row records about how it was made.
struct Provenance {
    var model: String
    var sha256: String
    var threshold: Float

    init(model: ImagePredictor, threshold: Float) { self.init(url: model.url, threshold: threshold) }

    init(url: URL?, threshold: Float) {
        model = url?.path ?? ""
        sha256 = url.flatMap { try? SHA256.hex(file: $0) } ?? ""
        self.threshold = threshold
    }

    func stamp(_ row: inout LesionSummary) {
        (row.model, row.modelSHA256, row.threshold) = (model, sha256, threshold)
        row.processedAt = ISO8601DateFormatter().string(from: Date())
    }
}
