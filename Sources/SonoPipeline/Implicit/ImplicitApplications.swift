import Foundation
import SonoBase
import SonoData
import SonoImaging
import SonoModels

/// Output choices of `sonoseg implicit segment`.
public struct ImplicitSegmentOptions: Sendable {
    /// Grid on which the frame is sampled before mapping back to the image (nil: the training size).
    public var resolution: (Int, Int)?
    /// Also write STEM_prob_hires.png and STEM_mask_hires.png at this size, the network read at every output
    /// pixel's centre (no resampling).
    public var highResolution: OutputResolution?
    /// Latent steps (nil: the model's K).
    public var steps: Int?
    public var restarts: Int?
    public var pointsPerStep: Int?
    /// Adam learning rate of the latent (nil: the model's).
    public var learningRate: Float?
    public var threshold: Float?
    /// The mask steps after the threshold, as for the U-Net's `segment`.
    public var postprocessing = MaskPostprocessing(fillHoles: true)
    public var pixelSpacingMM: Double?
    public var seed: UInt64 = 0
    /// When > 1, also sample the frame over [-extent, extent]² (the training plane is [-1, 1]²) and write
    /// STEM_extended_reconstruction.png and STEM_extended_prob.png: what the network continues beyond the image.
    public var extent: Float?
    public init() {}
}

/// A `LesionSummary` (whose `birads` and `pathology` the conditioned model's code search fills) plus the
/// per-class probabilities and the reconstruction loss; summary.json holds them as one flat row, in the
/// summary's naming.
public struct ImplicitLesionSummary: Encodable, Sendable {
    public var lesion: LesionSummary
    public var biradsProbabilities: [String: Float]?
    public var pathologyProbabilities: [String: Float]?
    public var reconstructionLoss: Double
    /// The pathology code whose fit reconstructed the image best (latent search; nil without pathology codes).
    public var pathologyBySearch: String? = nil

    public var birads: String? { lesion.birads }
    public var pathology: String? { lesion.pathology }

    enum CodingKeys: String, CodingKey {
        case biradsProbabilities = "birads_probabilities", pathologyProbabilities = "pathology_probabilities"
        case reconstructionLoss = "reconstruction_loss", pathologyBySearch = "pathology_by_search"
    }

    public func encode(to encoder: Encoder) throws {
        try lesion.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(biradsProbabilities, forKey: .biradsProbabilities)
        try c.encodeIfPresent(pathologyProbabilities, forKey: .pathologyProbabilities)
        try c.encode(reconstructionLoss, forKey: .reconstructionLoss)
        try c.encodeIfPresent(pathologyBySearch, forKey: .pathologyBySearch)
    }
}

/// Segments `images` by latent optimisation and writes what `segment` writes for the U-Net (STEM_mask.png at
/// the input's size, STEM_prob.png, STEM_overlay.png, summary.csv, summary.json), the predicted BI-RADS and
/// pathology for a conditioned model (summary.json, classes.csv), and STEM_reconstruction.png.
public func segmentImplicit(_ images: [URL], model: ImplicitModel, options: ImplicitSegmentOptions, out: URL,
                            log: (String) -> Void) throws -> [ImplicitLesionSummary] {
    let lock = try FolderLock(out, purpose: "segmenting")
    defer { withExtendedLifetime(lock) {} }
    let threshold = options.threshold ?? model.info.inference.threshold
    let provenance = Provenance(url: model.url, threshold: threshold)
    let batch = max(1, model.info.inference.batchSize / model.combinations.count)
    var rows: [ImplicitLesionSummary] = []
    let allNames = outputNames(images)
    var start = 0
    while start < images.count {
        let urls = Array(images[start..<min(start + batch, images.count)])
        let started = Date()
        let greys = try urls.map { try ImageIO.readGray($0) }
        let prepared = greys.map { model.prepare($0.image) }
        let predictions = model.infer(prepared.map(\.input.pixels), steps: options.steps, pointsPerStep: options.pointsPerStep,
                                      restarts: options.restarts, learningRate: options.learningRate, seed: options.seed)
        let perImage = Date().timeIntervalSince(started) / Double(urls.count)
        let names = Array(allNames[start..<(start + urls.count)])
        for (k, url) in urls.enumerated() {
            let grey = greys[k], prediction = predictions[k]
            // one readout of the frame gives the mask and the reconstruction
            let (probability, reconstruction) = try model.read(prediction, source: grey.image, resolution: options.resolution)
            var (_, lesion) = try writeLesionFiles(url, name: names[k], grey: grey, probability: probability,
                                                   mask: options.postprocessing.mask(from: probability, threshold: threshold),
                                                   spacing: options.pixelSpacingMM.map { PixelSpacing(isotropic: $0) }, seconds: { perImage }, out: out)
            provenance.stamp(&lesion)
            let stem = names[k]
            if let hires = options.highResolution {
                let (w, h) = hires.size(width: grey.image.width, height: grey.image.height)
                let geometry = model.prepare(grey.image).geometry
                let field = model.sample(prediction, coords: ImplicitModel.frameCoordinates(geometry, width: w, height: h)).mask
                try writeHighResolution(probability: GrayImage(width: w, height: h, pixels: field), image: grey.image, stem: stem, threshold: threshold,
                                        postprocessing: options.postprocessing, out: out)
            }
            try ImageIO.writePNG(reconstruction, to: out.appendingPathComponent("\(stem)_reconstruction.png"))
            if let extent = options.extent {
                // same pixel pitch as the reconstruction, over a wider square
                let (ew, eh) = (Int((Float(reconstruction.width) * extent).rounded()), Int((Float(reconstruction.height) * extent).rounded()))
                let field = model.sample(prediction, width: ew, height: eh, extent: extent)
                try ImageIO.writePNG(field.intensity, to: out.appendingPathComponent("\(stem)_extended_reconstruction.png"))
                try ImageIO.writePNG(field.mask, to: out.appendingPathComponent("\(stem)_extended_prob.png"))
            }
            let names = (b: model.info.network.biradsClasses, p: model.info.network.pathologyClasses)
            func named(_ probs: [Float]?, _ names: [String]) -> [String: Float]? {
                probs.map { Dictionary(uniqueKeysWithValues: zip(names, $0)) }
            }
            (lesion.birads, lesion.pathology) = (prediction.birads.map { names.b[$0] }, prediction.pathology.map { names.p[$0] })
            let bySearch = lesion.pathology
            var pathologyProbabilities = named(prediction.pathologyProbabilities, names.p)
            if let head = prediction.codeProbabilities {
                // The head reads the fitted code and answers pathology: trained to carry the label, it beats the
                // search over pathology codes (test AUC 0.80-0.90 against 0.53-0.56 for models/byra-local), whose
                // pick stays in classes.csv.
                let headNames = model.info.network.codeHeadClasses
                lesion.pathology = headNames[head.indices.max { head[$0] < head[$1] }!]
                pathologyProbabilities = named(head, headNames)
                if let m = headNames.firstIndex(of: "malignant") { lesion.malignancyProbability = Double(head[m]) }
            }
            rows.append(ImplicitLesionSummary(lesion: lesion, biradsProbabilities: named(prediction.biradsProbabilities, names.b),
                                              pathologyProbabilities: pathologyProbabilities,
                                              reconstructionLoss: prediction.loss, pathologyBySearch: bySearch))
            var line = lesion.lesionFound ? "lesion \(lesion.areaPixels) px" : "no lesion found"
            if let b = rows.last!.birads { line += ", BI-RADS \(b)" }
            if let p = rows.last!.pathology { line += ", \(p)" }
            log(String(format: "%@: %@ (%.2fs)", url.lastPathComponent, line, perImage))
        }
        start += urls.count
    }
    try writeSummaries(rows, lesions: rows.map(\.lesion), to: out)
    if model.info.network.isConditioned {
        var csv = "image,birads,pathology_by_search,pathology,reconstruction_loss\n"
        for r in rows {
            csv += "\(CSVField.escape(r.lesion.image)),\(r.birads ?? ""),\(r.pathologyBySearch ?? ""),\(r.pathology ?? ""),\(r.reconstructionLoss)\n"
        }
        try AtomicFile.write(Data(csv.utf8), to: out.appendingPathComponent("classes.csv"))
    }
    return rows
}

/// Segmentation metrics (at each image's own size, like the U-Net evaluation) and, for a conditioned model,
/// classification by latent search against the samples' labels.
public struct ImplicitEvaluation {
    public var segmentation: SegmentationReport
    public var birads: ClassificationReport?
    public var pathology: ClassificationReport?
    /// Pathology read by the code head from each fitted code (nil without a head).
    public var codeHead: ClassificationReport?
    public var skipped: [SkippedSample]
    public var secondsPerImage: Double
}

/// Scores the mask `options.postprocessing` makes from each fitted probability map. No default: the options'
/// own default fills holes (what `segment` writes) while the papers score the threshold alone, so the caller
/// says which (`sonoseg implicit evaluate` turns every step off unless asked).
public func evaluateImplicit(_ model: ImplicitModel, samples: [Sample], options: ImplicitSegmentOptions,
                             onError: ErrorPolicy = .fail, log: (String) -> Void = { _ in }) throws -> ImplicitEvaluation {
    let threshold = options.threshold ?? model.info.inference.threshold
    let batch = max(1, model.info.inference.batchSize / model.combinations.count)
    var rows: [SegmentationReport.Row] = [], skipped: [SkippedSample] = []
    var biradsProbs: [[Float]] = [], biradsLabels: [Int] = [], pathologyProbs: [[Float]] = [], pathologyLabels: [Int] = []
    var headProbs: [[Float]] = [], headLabels: [Int] = []
    let bar = ProgressBar(total: samples.count, label: "evaluate")
    let started = Date()
    var start = 0
    while start < samples.count {
        let chunk = Array(samples[start..<min(start + batch, samples.count)])
        var loaded: [(Sample, LoadedSample)] = []
        for s in chunk {
            do { loaded.append((s, try s.load())) } catch {
                if onError == .fail { throw error }
                skipped.append(SkippedSample(id: s.id, path: s.imageURL.path, reason: "\(error)"))
            }
        }
        let predictions = model.infer(loaded.map { model.prepare($0.1.image).input.pixels }, steps: options.steps,
                                      pointsPerStep: options.pointsPerStep, restarts: options.restarts, learningRate: options.learningRate, seed: options.seed &+ UInt64(start))
        for ((sample, image), prediction) in zip(loaded, predictions) {
            let probability = try model.probability(prediction, source: image.image, resolution: options.resolution)
            let metrics = try SegmentationMetrics(probabilities: probability.pixels,
                                                  prediction: options.postprocessing.mask(from: probability, threshold: threshold),
                                                  truth: image.mask, threshold: threshold)
            rows.append(.init(id: sample.id, metrics: metrics))
            if let p = prediction.biradsProbabilities, let label = ClassLabels.index(of: sample.birads, in: model.info.network.biradsClasses) {
                biradsProbs.append(p); biradsLabels.append(label)
            }
            if let p = prediction.pathologyProbabilities,
               let label = ClassLabels.index(of: sample.pathology ?? sample.className, in: model.info.network.pathologyClasses) {
                pathologyProbs.append(p); pathologyLabels.append(label)
            }
            if let p = prediction.codeProbabilities,
               let label = ClassLabels.index(of: sample.pathology ?? sample.className, in: model.info.network.codeHeadClasses) {
                headProbs.append(p); headLabels.append(label)
            }
        }
        start += chunk.count
        bar.update(start, String(format: "Dice %.3f", rows.map(\.metrics.dice).reduce(0, +) / Double(max(rows.count, 1))))
    }
    let names = model.info.network
    let birads = biradsProbs.isEmpty ? nil : try ClassificationReport(probabilities: biradsProbs, labels: biradsLabels, classNames: names.biradsClasses,
                                                                        positiveClass: names.biradsClasses.count - 1)
    let pathology = pathologyProbs.isEmpty ? nil : try ClassificationReport(probabilities: pathologyProbs, labels: pathologyLabels,
                                                                              classNames: names.pathologyClasses,
                                                                              positiveClass: names.pathologyClasses.firstIndex(of: "malignant") ?? names.pathologyClasses.count - 1)
    let headNames = names.codeHeadClasses
    let codeHead = headProbs.isEmpty ? nil : try ClassificationReport(probabilities: headProbs, labels: headLabels, classNames: headNames,
                                                                        positiveClass: headNames.firstIndex(of: "malignant") ?? headNames.count - 1)
    return ImplicitEvaluation(segmentation: SegmentationReport(rows: rows), birads: birads, pathology: pathology, codeHead: codeHead, skipped: skipped,
                              secondsPerImage: Date().timeIntervalSince(started) / Double(max(rows.count, 1)))
}

/// Writes the segmentation files of `writeEvaluation` plus birads.json / pathology.json and classification.md.
public func writeImplicitEvaluation(_ e: ImplicitEvaluation, name: String, to folder: URL) throws {
    try writeEvaluation(e.segmentation, name: name, skipped: e.skipped, to: folder)
    var md = ""
    for (label, file, report) in [("BI-RADS by latent search", "birads.json", e.birads), ("pathology by latent search", "pathology.json", e.pathology),
                                  ("pathology by the code head", "code-head.json", e.codeHead)] {
        guard let report else { continue }
        try JSONFiles.write(report, to: folder.appendingPathComponent(file))
        md += "## \(label)\n\n" + MetricsMarkdown.classificationTable([(name: name, report: report)]) + "\n"
            + MetricsMarkdown.confusionMatrix(report) + "\n"
    }
    if !md.isEmpty { try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("classification.md")) }
}

/// Inpainting: hides `box` (x, y, width, height in the image's pixels); see `inpaintImplicit(_:hidden:…)`.
@discardableResult
public func inpaintImplicit(_ url: URL, box: (x: Int, y: Int, width: Int, height: Int), model: ImplicitModel,
                            options: ImplicitSegmentOptions, out: URL) throws -> Double {
    let image = try ImageIO.read(url)
    guard box.width > 0, box.height > 0, box.x >= 0, box.y >= 0, box.x + box.width <= image.width, box.y + box.height <= image.height else {
        throw PipelineError.invalidConfig("\(url.path): box \(box) lies outside the \(image.width)x\(image.height) image")
    }
    var hidden = Mask(width: image.width, height: image.height)
    for y in box.y..<(box.y + box.height) { for x in box.x..<(box.x + box.width) { hidden.pixels[y * image.width + x] = 1 } }
    return try inpaintImplicit(url, hidden: hidden, model: model, options: options, out: out)
}

/// Burned-in annotations (calipers, text, coloured marks) found by `detector` are hidden and filled from the
/// network; returns the hidden mask (empty: nothing found, the image is written unchanged).
@discardableResult
public func inpaintAnnotations(_ url: URL, detector: AnnotationDetector = AnnotationDetector(), model: ImplicitModel,
                               options: ImplicitSegmentOptions, out: URL) throws -> Mask {
    let hidden = detector.detect(try ImageIO.read(url))
    try inpaintImplicit(url, hidden: hidden, model: model, options: options, out: out)
    return hidden
}

/// Inpainting: hides the pixels of `hidden` (1: hidden, the image's size), fits the latent on the visible pixels
/// only, and writes STEM_hidden.png (the input with the hidden pixels black), STEM_inpainted.png (the image with
/// them filled from the network), STEM_reconstruction.png, STEM_mask.png and STEM_overlay.png, all at the image's
/// own size. Returns the mean absolute intensity error over the hidden pixels (normalised units).
@discardableResult
public func inpaintImplicit(_ url: URL, hidden: Mask, model: ImplicitModel, options: ImplicitSegmentOptions, out: URL) throws -> Double {
    try Folders.create(out)
    let grey = try ImageIO.readGray(url).image
    guard hidden.width == grey.width, hidden.height == grey.height else {
        throw PipelineError.invalidConfig("\(url.path): the hidden mask is \(hidden.width)x\(hidden.height), the image \(grey.width)x\(grey.height)")
    }
    func isHidden(_ x: Int, _ y: Int) -> Bool {
        x >= 0 && y >= 0 && x < grey.width && y < grey.height && hidden.pixels[y * grey.width + x] != 0
    }
    // a frame pixel is hidden when its centre maps onto a hidden image pixel
    let (input, g) = model.prepare(grey)
    var visible = [Bool](repeating: true, count: input.width * input.height)
    let sx = Double(g.contentWidth) / Double(g.sourceWidth), sy = Double(g.contentHeight) / Double(g.sourceHeight)
    for y in 0..<input.height {
        for x in 0..<input.width {
            let ox = Int(((Double(x) + 0.5 - Double(g.offsetX)) / sx).rounded(.down)), oy = Int(((Double(y) + 0.5 - Double(g.offsetY)) / sy).rounded(.down))
            if isHidden(ox, oy) { visible[y * input.width + x] = false }
        }
    }
    let prediction = model.infer([input.pixels], visible: [visible], steps: options.steps, pointsPerStep: options.pointsPerStep,
                                 restarts: options.restarts, learningRate: options.learningRate, seed: options.seed)[0]
    // read the network at each source pixel's centre: resolution-free, no resampling
    let (intensity, probability) = model.sample(prediction, coords: ImplicitModel.frameCoordinates(g, width: grey.width, height: grey.height))
    // the reconstruction is in normalised units: map it back to the image's own range (min-max inverse)
    let lo = grey.pixels.min() ?? 0, hi = grey.pixels.max() ?? 1
    let reconstruction = intensity.map { lo + $0 * (hi - lo) }
    // The field is smoother than the speckle around a thin hole and may sit a little off its level there: add the
    // mean residual (image − field) of the visible pixels around each hidden one, so the fill meets its surround.
    let offset = localMeanResidual(grey.pixels, reconstruction, hidden: hidden, radius: 6)
    var holed = grey, filled = grey
    var error = 0.0, count = 0
    for i in 0..<(grey.width * grey.height) where hidden.pixels[i] != 0 {
        holed.pixels[i] = 0
        filled.pixels[i] = min(max(reconstruction[i] + offset[i], 0), 1)
        error += Double(abs(filled.pixels[i] - grey.pixels[i])); count += 1
    }
    let threshold = options.threshold ?? model.info.inference.threshold
    let mask = Mask(width: grey.width, height: grey.height, pixels: probability.map { $0 > threshold ? 1 : 0 })
    let stem = url.deletingPathExtension().lastPathComponent
    try ImageIO.writePNG(holed, to: out.appendingPathComponent("\(stem)_hidden.png"))
    try ImageIO.writePNG(filled, to: out.appendingPathComponent("\(stem)_inpainted.png"))
    try ImageIO.writePNG(GrayImage(width: grey.width, height: grey.height, pixels: reconstruction), to: out.appendingPathComponent("\(stem)_reconstruction.png"))
    try ImageIO.writePNG(mask, to: out.appendingPathComponent("\(stem)_mask.png"))
    try ImageIO.writePNG(try Overlay.render(filled, mask: mask), to: out.appendingPathComponent("\(stem)_overlay.png"))
    return count > 0 ? error / Double(count) / Double(max(hi - lo, 1e-6)) : 0
}

/// Per pixel: the mean of (image − field) over the visible pixels within a (2r+1)² window (0 where none is
/// visible), by summed-area tables.
func localMeanResidual(_ image: [Float], _ field: [Float], hidden: Mask, radius r: Int) -> [Float] {
    let w = hidden.width, h = hidden.height
    var sum = [Double](repeating: 0, count: (w + 1) * (h + 1)), n = sum
    for y in 0..<h {
        for x in 0..<w {
            let i = y * w + x, seen = hidden.pixels[i] == 0
            let o = (y + 1) * (w + 1) + x + 1
            sum[o] = (seen ? Double(image[i] - field[i]) : 0) + sum[o - 1] + sum[o - w - 1] - sum[o - w - 2]
            n[o] = (seen ? 1 : 0) + n[o - 1] + n[o - w - 1] - n[o - w - 2]
        }
    }
    var out = [Float](repeating: 0, count: w * h)
    for y in 0..<h {
        for x in 0..<w where hidden.pixels[y * w + x] != 0 {
            let (x0, y0, x1, y1) = (max(0, x - r), max(0, y - r), min(w, x + r + 1), min(h, y + r + 1))
            func box(_ t: [Double]) -> Double { t[y1 * (w + 1) + x1] - t[y0 * (w + 1) + x1] - t[y1 * (w + 1) + x0] + t[y0 * (w + 1) + x0] }
            let count = box(n)
            out[y * w + x] = count > 0 ? Float(box(sum) / count) : 0
        }
    }
    return out
}
