import SonoMetrics
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

/// Segments each image with any `Segmenter` and writes STEM_mask.png (0/255 at the input's size), STEM_prob.png
/// (probability × 255), STEM_heatmap.png, STEM_overlay.png (outline, calipers, caption), the model's extra
/// pictures (STEM_reconstruction.png for an implicit network), then summary.csv and summary.json. Every frame of
/// a multi-frame file is an image (STEM_f001, …); frames are handed to the model `preferredBatch` at a time,
/// across files.
///
/// With a `diagnoser`, each image also gets lesion presence, pathology and BI-RADS; an image it calls lesion-free
/// gets an empty mask (no outline of noise), whatever the threshold left.
public func segment(_ images: [URL], model: Segmenter, options: SegmentOptions, diagnoser: Diagnoser? = nil, out: URL,
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
    /// One frame waiting for the model: where it came from and what its row needs.
    struct Frame { var url: URL; var stem: String; var frame: Int?; var grey: GrayConversion; var spacing: PixelSpacing?; var spacingSource: String? }
    var pending: [Frame] = []

    func flush() throws {
        guard !pending.isEmpty else { return }
        let started = Date()
        let predictions = try model.predict(pending.map(\.grey.image), flipTTA: options.flipTTA)
        let modelSeconds = Date().timeIntervalSince(started) / Double(pending.count)
        for (f, prediction) in zip(pending, predictions) {
            let written = Date()
            let probability = prediction.lesion ?? GrayImage(width: f.grey.image.width, height: f.grey.image.height)
            var mask = options.postprocessing.mask(from: probability, threshold: threshold)
            let found = try diagnoser?.diagnose(image: f.grey.image, probability: probability, mask: mask)
            if let found, !found.lesionPresent { mask = Mask(width: mask.width, height: mask.height) }
            let head = prediction.classes.flatMap { p in model.classNames.map { ClassAnswer(names: $0, probabilities: p) } }
            let caption = [String(format: "model %@, threshold %.2f", modelName, threshold)] + (found.map { [$0.summary] } ?? [])
            var (_, row) = try writeLesionFiles(f.url, name: f.stem, grey: f.grey, probability: probability, mask: mask, spacing: f.spacing,
                                                caption: caption, seconds: { modelSeconds + Date().timeIntervalSince(written) }, out: out)
            for extra in prediction.images {
                try ImageIO.writePNG(extra.image, to: out.appendingPathComponent("\(f.stem)_\(extra.suffix).png"))
            }
            if let hires = options.highResolution {
                let (w, h) = hires.size(width: probability.width, height: probability.height)
                let p = found?.lesionPresent == false ? GrayImage(width: w, height: h) : try prediction.lesion(width: w, height: h)!
                try writeHighResolution(probability: p, image: f.grey.image, stem: f.stem, threshold: threshold,
                                        postprocessing: options.postprocessing, out: out)
            }
            (row.frame, row.spacingSource) = (f.frame, f.spacingSource)
            (row.className, row.classProbability) = (head?.label, head.map { Double($0.probability) })
            (row.biradsBySearch, row.pathologyBySearch) = (prediction.biradsBySearch?.label, prediction.pathologyBySearch?.label)
            row.reconstructionLoss = prediction.reconstructionLoss
            provenance.stamp(&row)
            if let found {
                (row.lesionProbability, row.pathology, row.malignancyProbability) = (found.lesionProbability, found.pathology, found.malignancyProbability)
                (row.birads, row.biradsProbability) = (found.birads, found.biradsProbability)
            }
            rows.append(row)
            let diagnosis = (head.map { String(format: "; class %@ (p = %.3f)", $0.label, $0.probability) } ?? "") + (found.map { "; " + $0.summary } ?? "")
            log(String(format: "%@%@: %@%@ (%.2fs)", row.image, f.frame.map { " frame \($0)" } ?? "",
                       row.lesionFound ? "lesion \(row.areaPixels) px, max diameter \(String(format: "%.1f", row.maxDiameterPixels)) px" : "no lesion found",
                       diagnosis, row.seconds))
        }
        pending.removeAll()
    }

    for (url, name) in zip(images, outputNames(images)) {
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
        let multi = scan.frames.count > 1
        for (k, frame) in scan.frames.enumerated() {
            // A cine loop's frames are STEM_f001, STEM_f002, …
            pending.append(Frame(url: url, stem: multi ? name + String(format: "_f%03d", k + 1) : name, frame: multi ? k + 1 : nil,
                                 grey: GrayConversion(frame), spacing: spacing, spacingSource: spacingSource))
            if pending.count >= model.preferredBatch { try flush() }
        }
    }
    try flush()
    try writeSummaries(rows, to: out)
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
    // The input's file name, with the folders its output name needed to be unique ("a/x.png").
    let folders = stem.split(separator: "/").dropLast().map { $0 + "/" }.joined()
    var row = LesionSummary(image: folders + url.lastPathComponent, width: grey.image.width, height: grey.image.height)
    (row.lesionFound, row.areaPixels, row.areaMM2) = (m.areaPixels > 0, m.areaPixels, m.areaMM2)
    (row.maxDiameterPixels, row.maxDiameterMM, row.shortAxisPixels, row.shortAxisMM) = (m.maxDiameterPixels, m.maxDiameterMM, m.shortAxisPixels, m.shortAxisMM)
    (row.depthPixels, row.depthMM, row.tallerThanWide) = (m.depthPixels, m.depthMM, m.tallerThanWide)
    row.boundingBox = m.boundingBox.map { LesionSummary.Box(x: $0.x, y: $0.y, w: $0.width, h: $0.height) }
    (row.orientationDegrees, row.components, row.channelsDiffered) = (m.orientationDegrees, m.componentCount, grey.channelsDiffered)
    row.meanProbability = lesionProbs.isEmpty ? 0 : lesionProbs.reduce(0, +) / Double(lesionProbs.count)
    row.seconds = seconds()
    return (mask, row)
}

