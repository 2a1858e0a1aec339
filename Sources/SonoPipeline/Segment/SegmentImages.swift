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
    /// Add this run's rows to the summary an earlier run left in the output folder (outputs must not clash);
    /// without it such a folder is refused.
    public var append = false
    /// The lesion-presence cut-off (nil: the diagnosis bundle's own, `presence.threshold`).
    public var presenceThreshold: Double?
    /// Only this part of the inputs (`--shard I/N`): images into the output folder as usual, the summary part
    /// into `parts/shard-I-of-N/` for `merge`.
    public var shard: Shard?
    /// For each DICOM input (each frame), also a DICOM Segmentation (STEM_seg.dcm) and a TID 1500 Measurement Report
    /// (STEM_sr.dcm) beside the PNGs (`--no-dicom-out` turns them off; other formats never get them).
    public var dicomOut = true
    public init() {}
}

/// Segments each image with any `Segmenter` and writes, per image (each frame of a multi-frame file is one:
/// STEM_f001, …), STEM_mask.png (0/255 at the input's size: what the reader should see), STEM_prob.png
/// (probability × 255), STEM_heatmap.png, STEM_overlay.png (outlines, calipers per lesion, caption, the
/// research-use line), the model's extra pictures (STEM_reconstruction.png for an implicit network); then
/// summary.csv / summary.json (a row per image), lesions.csv (a row per lesion) and README.txt (the columns
/// and the disclaimer). Frames go to the model `preferredBatch` at a time, across files.
///
/// With a `diagnoser`, each image also gets lesion presence, pathology and BI-RADS. An image it calls
/// lesion-free gets an empty STEM_mask.png, but the outline it suppressed is kept (STEM_candidate_mask.png,
/// dashed on the overlay, its area in `suppressed_area_px`) beside the cut-off used (`presence_threshold`).
///
/// Nothing is lost or overwritten: output names never collide (`outputNames`); a folder holding an earlier run's
/// summary is refused unless `options.append`; a run that stops early (an unreadable file under
/// `onError: fail`, a failed write) still writes the summary of the rows it finished and `stopped.csv` (the
/// input that failed and why, and those not reached) before it rethrows.
public func segment(_ inputs: [SegmentInput], model: Segmenter, options: SegmentOptions, diagnoser: ImageDiagnoser? = nil, out: URL,
                    log: (String) -> Void) throws -> [LesionSummary] {
    guard model.segments else {
        throw PipelineError.invalidConfig("\(model.url.path) is a classifier without a segmentation output; use `sonoseg classify evaluate`")
    }
    if options.flipTTA && !model.supportsFlipTTA {
        throw PipelineError.invalidConfig("\(model.url.path): test-time flips apply to convolutional models, not to this one")
    }
    // A shard keeps its summary apart (and locks only that), so shards share one output folder.
    let summaryFolder = options.shard?.partFolder(in: out) ?? out
    let lock = try FolderLock(summaryFolder, purpose: "segmenting")
    defer { withExtendedLifetime(lock) {} }
    let threshold = options.threshold ?? model.threshold
    let provenance = Provenance(model: model, threshold: threshold)
    if let diagnoser, provenance.sha256 != diagnoser.segmenterSHA256 {
        log("note: \(diagnoser.folder.path) was calibrated on another segmenter's maps; lesion presence probabilities may be off for \(model.url.lastPathComponent)")
    }
    // Names come from the whole list, so a shard's files are named as the unsharded run names them.
    let names = outputNames(inputs)
    let selected = options.shard.map { s in inputs.indices.filter { s.owns(inputs[$0].relativePath) } } ?? Array(inputs.indices)
    if options.shard != nil && options.append { throw PipelineError.invalidConfig("--append and --shard do not go together: merge the parts instead") }
    let earlier = try earlierRun(summaryFolder, out: out, append: options.append, stems: selected.map { names[$0] }, redoingShard: options.shard != nil)
    // Resuming a stopped run: the inputs it finished keep their rows and files; the rest are done now.
    let todo = selected.filter { !earlier.finished.contains(inputs[$0].relativePath) }
    if todo.count < selected.count { log("resuming the stopped run in \(summaryFolder.path): \(selected.count - todo.count) inputs done, \(todo.count) to go") }
    let runID = SegmentRun.newID()
    // this run's rows (what it returns); the summary also holds the earlier run's
    var rows: [LesionSummary] = [], lesions: [LesionRow] = [], skipped = earlier.skipped
    let modelName = model.url.deletingLastPathComponent().lastPathComponent + "/" + model.url.lastPathComponent
    /// One frame waiting for the model: where it came from and what its row needs.
    struct Frame { var input: SegmentInput; var index: Int; var stem: String; var frame: Int?; var grey: GrayConversion
                   var spacing: PixelSpacing?; var spacingSource: String?; var uids: DICOMUIDs?; var dicom: DICOMSeries? }
    var pending: [Frame] = []

    func flush() throws {
        guard !pending.isEmpty else { return }
        let started = Date()
        let predictions = try model.predict(pending.map(\.grey.image), flipTTA: options.flipTTA)
        let modelSeconds = Date().timeIntervalSince(started) / Double(pending.count)
        guard predictions.count == pending.count else {
            throw PipelineError.invalidConfig("\(model.url.path) answered \(predictions.count) predictions for \(pending.count) images")
        }
        for (f, prediction) in zip(pending, predictions) {
            let written = Date()
            let probability = prediction.lesion ?? GrayImage(width: f.grey.image.width, height: f.grey.image.height)
            var mask = options.postprocessing.mask(from: probability, threshold: threshold)
            let found = try diagnoser?.diagnose(image: f.grey.image, probability: probability, mask: mask, presenceThreshold: options.presenceThreshold)
            var suppressed: Mask?
            if let found, !found.lesionPresent, !mask.isEmpty { (suppressed, mask) = (mask, Mask(width: mask.width, height: mask.height)) }
            let head = prediction.classes.flatMap { p in model.classNames.map { ClassAnswer(names: $0, probabilities: p) } }
            let caption = [String(format: "model %@, threshold %.2f", modelName, threshold)] + (found.map { [$0.caption] } ?? [])
            var (row, perLesion) = try writeLesionFiles(f.input, name: f.stem, grey: f.grey, probability: probability, mask: mask,
                                                        suppressed: suppressed, spacing: f.spacing, caption: caption,
                                                        seconds: { modelSeconds + Date().timeIntervalSince(written) }, out: out)
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
            (row.studyInstanceUID, row.seriesInstanceUID, row.sopInstanceUID) = (f.uids?.study, f.uids?.series, f.uids?.sopInstance)
            (row.className, row.classProbability) = (head?.label, head.map { Double($0.probability) })
            (row.biradsBySearch, row.pathologyBySearch) = (prediction.biradsBySearch?.label, prediction.pathologyBySearch?.label)
            row.reconstructionLoss = prediction.reconstructionLoss
            row.runID = runID
            provenance.stamp(&row)
            if let found {
                (row.lesionProbability, row.pathology, row.malignancyProbability) = (found.lesionProbability, found.pathology, found.malignancyProbability)
                (row.birads, row.biradsProbability, row.presenceThreshold) = (found.birads, found.biradsProbability, found.presenceThreshold)
            }
            if let series = f.dicom {
                try writeDICOMObjects(&row, source: f.input.url, frame: f.frame, mask: mask, series: series, stem: f.stem,
                                      modelName: modelName, out: out, log: log)
            }
            rows.append(row)
            lesions += perLesion.map { var l = $0; l.frame = f.frame; l.runID = runID; return l }
            let diagnosis = (head.map { String(format: "; class %@ (p = %.3f)", $0.label, $0.probability) } ?? "") + (found.map { "; " + $0.summary } ?? "")
            log(String(format: "%@%@: %@%@ (%.2fs)", row.input, f.frame.map { " frame \($0)" } ?? "",
                       row.lesionFound ? "lesion \(row.areaPixels) px, max diameter \(String(format: "%.1f", row.maxDiameterPixels)) px"
                           : suppressed.map { "no lesion found (a \($0.area) px candidate below the presence cut-off kept as \(f.stem)_candidate_mask.png)" } ?? "no lesion found",
                       diagnosis, row.seconds))
            pending.removeFirst()   // done: what stays pending when something throws is what did not finish
        }
    }

    var position = 0       // in `todo`
    var unreadable: Int?   // the position of a file that could not be read (onError: fail)
    func record(complete: Bool, in folder: URL) throws {
        guard let shard = options.shard else { return }
        try JSONFiles.write(ShardRecord(shard: shard, inputs: inputs.map(\.relativePath), runID: runID, complete: complete),
                            to: folder.appendingPathComponent("shard.json"))
    }
    func writeSkipped(to folder: URL) throws {
        guard !skipped.isEmpty else { return }
        let csv = "file,reason\n" + skipped.map { CSVField.escape($0.0) + "," + CSVField.escape($0.1) }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(csv.utf8), to: folder.appendingPathComponent("skipped.csv"))
    }
    do {
        for (p, k) in todo.enumerated() {
            position = p
            let (input, name) = (inputs[k], names[k])
            let scan: Scan
            do { scan = try ImageIO.readScan(input.url, maxPixels: options.maxPixels) } catch {
                guard options.onError == .skip else {
                    // the frames read before it are segmented first, then the run stops at it
                    unreadable = p
                    try flush()
                    throw error
                }
                skipped.append((input.relativePath, "\(error)"))
                log("skipped \(error)")
                continue
            }
            // The file's own calibration (DICOM) wins over --spacing, which is for files that carry none.
            let spacing = scan.spacingMM.map { PixelSpacing(x: $0.x, y: $0.y) } ?? options.pixelSpacingMM.map { PixelSpacing(isotropic: $0) }
            let spacingSource = scan.spacingSource ?? (options.pixelSpacingMM == nil ? nil : "--spacing")
            let multi = scan.frames.count > 1
            // one SEG series and one SR series per DICOM file, its frames' objects numbered within them
            let dicom = options.dicomOut && scan.format == .dicom ? DICOMSeries(spacingMM: scan.spacingMM) : nil
            for (j, frame) in scan.frames.enumerated() {
                pending.append(Frame(input: input, index: p, stem: multi ? name + String(format: "_f%03d", j + 1) : name, frame: multi ? j + 1 : nil,
                                     grey: GrayConversion(frame), spacing: spacing, spacingSource: spacingSource, uids: scan.uids, dicom: dicom))
                if pending.count >= model.preferredBatch { try flush() }
            }
        }
        position = todo.count
        try flush()
    } catch {
        // What was finished is kept and said; the input at fault and those not reached are listed. An input with
        // a row for some of its frames only counts as failed: its rows are kept, and so is the word that it
        // did not finish.
        let pendingInputs = Set(pending.map(\.input.relativePath))
        let done = Set(rows.map(\.input)).subtracting(pendingInputs)
        let skippedInputs = Set(skipped.map(\.0))
        let failedPosition = pending.first.map(\.index) ?? unreadable ?? min(position, todo.count - 1)
        var stopped = [StoppedRow(input: inputs[todo[failedPosition]].relativePath, status: "failed", reason: "\(error)")]
        for k in todo[min(failedPosition + 1, todo.count)...] {
            let path = inputs[k].relativePath
            if !done.contains(path) && !skippedInputs.contains(path) { stopped.append(StoppedRow(input: path, status: "not reached", reason: "")) }
        }
        // an input that failed part-way keeps no rows: a resumed run does it again whole
        rows.removeAll { pendingInputs.contains($0.input) }
        lesions.removeAll { pendingInputs.contains($0.input) }
        // Into the summary's folder or, where that fails too (a full disk), into a folder of the temporary directory.
        let fallback = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-stopped-\(runID)")
        for folder in [summaryFolder, fallback] {
            do {
                try Folders.create(folder)
                try writeSummaries(earlier.rows + rows, lesions: earlier.lesions + lesions, to: folder)
                try AtomicFile.write(Data(try CSVRows.csv(stopped, template: StoppedRow(input: "", status: "", reason: "")).utf8),
                                     to: folder.appendingPathComponent("stopped.csv"))
                try writeSkipped(to: folder)
                try record(complete: false, in: folder)
                log("stopped at \(stopped[0].input): \(rows.count) rows written to \(folder.path)/summary.csv; the input that failed and "
                    + "\(stopped.count - 1) not reached are listed in stopped.csv")
                break
            } catch let second {
                log("stopped at \(stopped[0].input); the summary of the \(rows.count) rows done could not be written to \(folder.path): \(second)")
            }
        }
        throw error
    }
    if !earlier.finished.isEmpty {
        // a resumed run's rows in input order, as an uninterrupted run writes them
        let order = Dictionary(inputs.enumerated().map { ($1.relativePath, $0) }, uniquingKeysWith: { a, _ in a })
        func place(_ input: String, _ frame: Int?, _ lesion: Int = 0) -> (Int, Int, Int) { (order[input] ?? Int.max, frame ?? 0, lesion) }
        try writeSummaries((earlier.rows + rows).sorted { place($0.input, $0.frame) < place($1.input, $1.frame) },
                           lesions: (earlier.lesions + lesions).sorted { place($0.input, $0.frame, $0.lesion) < place($1.input, $1.frame, $1.lesion) },
                           to: summaryFolder)
    } else {
        try writeSummaries(earlier.rows + rows, lesions: earlier.lesions + lesions, to: summaryFolder)
    }
    try? FileManager.default.removeItem(at: summaryFolder.appendingPathComponent("stopped.csv"))   // a stopped run, now finished
    try writeSkipped(to: summaryFolder)
    if !skipped.isEmpty { log("\(skipped.count) of \(inputs.count) images skipped (listed in \(summaryFolder.path)/skipped.csv)") }
    try record(complete: true, in: summaryFolder)
    if options.append && !earlier.rows.isEmpty { log("appended \(rows.count) rows (run \(runID)) to the \(earlier.rows.count) of earlier runs in \(out.path)/summary.csv") }
    if let shard = options.shard { log("shard \(shard): \(selected.count) of \(inputs.count) inputs; its summary part is \(summaryFolder.path); join the parts with `sonoseg merge`") }
    return rows
}

/// Files given directly, each named by its file name.
public func segment(_ urls: [URL], model: Segmenter, options: SegmentOptions, diagnoser: ImageDiagnoser? = nil, out: URL,
                    log: (String) -> Void) throws -> [LesionSummary] {
    try segment(urls.map(SegmentInput.init), model: model, options: options, diagnoser: diagnoser, out: out, log: log)
}

/// A row of stopped.csv: an input the run did not finish.
struct StoppedRow: Codable { var input: String; var status: String; var reason: String }

/// What an earlier run left in `out`: nothing, or (with `append`) its rows, after checking that this run's
/// outputs would overwrite none of its files.
/// What an earlier run left in `folder` (the output folder, or a shard's part folder): nothing; a stopped run,
/// which this one resumes (its finished inputs keep their rows and files); or, with `append`, a finished run
/// whose rows this one adds to, after checking that none of its files would be overwritten. Anything else is
/// refused, so one run never replaces another's results.
func earlierRun(_ folder: URL, out: URL, append: Bool, stems: [String], redoingShard: Bool = false) throws
    -> (rows: [LesionSummary], lesions: [LesionRow], skipped: [(String, String)], finished: Set<String>) {
    let summary = folder.appendingPathComponent("summary.json")
    guard FileManager.default.fileExists(atPath: summary.path) else { return ([], [], [], []) }
    let rows: [LesionSummary]
    do { rows = try JSONFiles.read([LesionSummary].self, from: summary) } catch {
        throw PipelineError.unreadable(summary.path, "an earlier run's summary that this version cannot read (\(error)); choose another --out")
    }
    let lesionsFile = folder.appendingPathComponent("lesions.json")
    let lesions = FileManager.default.fileExists(atPath: lesionsFile.path) ? try JSONFiles.read([LesionRow].self, from: lesionsFile) : []
    let skippedFile = folder.appendingPathComponent("skipped.csv")
    let skipped = FileManager.default.fileExists(atPath: skippedFile.path)
        ? try CSVTable(contentsOf: skippedFile).rows.map { ($0[0], $0.count > 1 ? $0[1] : "") } : []
    if FileManager.default.fileExists(atPath: folder.appendingPathComponent("stopped.csv").path) {
        // a stopped run (a shard's included): resume it; the skipped files are read again
        return (rows, lesions, [], Set(rows.map(\.input)))
    }
    if redoingShard {
        throw PipelineError.invalidConfig("\(folder.path) holds this shard's finished part already; merge the parts, or choose another --out")
    }
    guard append else {
        let runs = Set(rows.compactMap(\.runID)).count
        throw PipelineError.invalidConfig("\(folder.path) already holds the results of an earlier run (\(rows.count) rows\(runs > 1 ? ", \(runs) runs" : "")); "
            + "pass --append to add this run's rows to its summary, or choose another --out")
    }
    for stem in stems {
        for name in ["\(stem)_mask.png", "\(stem)_f001_mask.png"] where FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path) {
            throw PipelineError.invalidConfig("--append: \(out.appendingPathComponent(name).path) exists from an earlier run and would be overwritten; choose another --out")
        }
    }
    return (rows, lesions, skipped, [])
}

/// A run's identity in the rows it writes: when it started (UTC) and a random tag.
enum SegmentRun {
    static func newID() -> String {
        let f = DateFormatter()
        (f.dateFormat, f.timeZone, f.locale) = ("yyyyMMdd'T'HHmmss'Z'", TimeZone(identifier: "UTC"), Locale(identifier: "en_US_POSIX"))
        return f.string(from: Date()) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }
}
