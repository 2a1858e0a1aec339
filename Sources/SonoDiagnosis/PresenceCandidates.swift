import Foundation
import SonoBase
import SonoData
import SonoImaging
import SonoPipeline

/// Training data for a presence classifier that judges the segmenter's candidate, not the whole frame.
///
/// At inference the bundle asks "is the region the segmenter found a lesion?" by classifying the window around
/// the segmenter's largest region (a lesion-crop classifier, `preprocess.crop`). On a normal scan from another
/// scanner that region is a fat lobule, a duct or a shadow, seen at the scale of the region, so the frame's field
/// of view and the scanner's look of the whole image no longer tell the answer. Negatives of that kind exist in
/// every lesion image: the segmenter's strongest response away from the lesion. Each lesion image gives its
/// lesion (label "lesion", the ground-truth mask) and, where there is one, such a candidate (label "normal");
/// a normal image gives its strongest candidate. Written as a paired dataset whose masks are the regions.
public struct PresenceCandidateConfig: Codable, Sendable, Equatable {
    /// Segmenter thresholds tried in turn for a candidate: the strongest response first.
    public var thresholds: [Float] = [0.5, 0.3, 0.1]
    /// When none of `thresholds` gives one: regions above this fraction of the highest probability outside the
    /// lesion (the segmenter's strongest response, however faint; the tissue that looks most like lesion to it).
    public var relativeThreshold: Float = 0.5
    /// A candidate's window may hold at most this share of the lesion's pixels (else the negative shows lesion).
    public var maxLesionShare = 0.05
    /// Smallest candidate, as a fraction of the image's pixels (single-pixel specks are no candidates).
    public var minimumAreaFraction = 0.0005
    /// The window the classifier will read: the presence recipe's `preprocess.crop`.
    public var crop = LesionCropConfig()
    /// Whether images without a lesion give their strongest candidate as a negative. A normal image with no region
    /// at all gives nothing: with an empty mask the bundle calls "no lesion" whatever the presence model says.
    public var includeNormalImages = true
    /// In a lesion image, the negative's region is a box of the lesion's size (or, where that would show the
    /// lesion, of `lesionSizedScales` of it) centred on the candidate, so the negative window has a lesion's
    /// scale: on a normal scan the segmenter's region has a lesion's size too, while the faint candidates of a
    /// lesion image are small, and a window's scale must not tell the class.
    public var lesionSizedNegatives = false
    public var lesionSizedScales = [1.0, 0.75, 0.5]
    public init() {}

    public var problems: [String] {
        var out = [String]()
        if thresholds.isEmpty || !thresholds.allSatisfy({ $0 > 0 && $0 < 1 }) { out.append("thresholds must be in (0, 1), at least one") }
        if !(relativeThreshold > 0 && relativeThreshold < 1) { out.append("relativeThreshold is \(relativeThreshold); allowed: (0, 1)") }
        if !(0...1).contains(maxLesionShare) { out.append("maxLesionShare is \(maxLesionShare); allowed: 0-1") }
        if lesionSizedScales.isEmpty || !lesionSizedScales.allSatisfy({ $0 > 0 && $0 <= 1 }) { out.append("lesionSizedScales must be in (0, 1], at least one") }
        if !(0..<1).contains(minimumAreaFraction) { out.append("minimumAreaFraction is \(minimumAreaFraction); allowed: [0, 1)") }
        if !(0...2).contains(crop.margin) { out.append("crop margin is \(crop.margin); allowed: 0-2") }
        if !(0...1).contains(crop.minimumFraction) { out.append("crop minimumFraction is \(crop.minimumFraction); allowed: 0-1") }
        return out
    }
}

/// One region of the candidates dataset.
public struct PresenceCandidate: Codable, Sendable, Equatable {
    public var id: String
    public var source: String
    public var part: String
    /// "lesion" (the ground truth) or "normal" (a segmenter region away from any lesion).
    public var label: String
    /// The segmenter threshold the region was found at (nil for a ground-truth lesion).
    public var threshold: Float?
    public var box: PixelBox
}

public enum PresenceCandidateSampler {
    /// The largest region of `probability` at the first of `config.thresholds` (then `relativeThreshold` times the
    /// highest probability there) that gives one outside `lesion` (grown by 10% of its size), of at least the
    /// minimum area, whose classifier window holds at most `maxLesionShare` of the lesion's pixels. Holes filled,
    /// as `segment` fills them; with `lesionSizedNegatives`, a box of the lesion's size (else of its
    /// `lesionSizedScales`) centred on that region instead.
    public static func candidate(probability: GrayImage, lesion: Mask, config: PresenceCandidateConfig) -> (mask: Mask, threshold: Float)? {
        let (w, h) = (probability.width, probability.height)
        let keepOut = lesion.boundingBox.map { $0.grown(by: max(1, Int((0.1 * Double(max($0.width, $0.height))).rounded()))) }
        let lesionArea = lesion.area
        let minimumArea = max(4, Int(config.minimumAreaFraction * Double(w * h)))
        var outside = probability.pixels
        if let k = keepOut {
            for y in max(0, k.y)..<min(h, k.y + k.height) { for x in max(0, k.x)..<min(w, k.x + k.width) { outside[y * w + x] = 0 } }
        }
        let strongest = outside.max() ?? 0
        let relative = config.relativeThreshold * strongest
        for t in config.thresholds + (relative > 1e-4 && relative < config.thresholds.min()! ? [relative] : []) {
            let pixels = outside.map { $0 >= t ? UInt8(1) : 0 }
            let components = ConnectedComponents(Mask(width: w, height: h, pixels: pixels))
            for c in components.areas.indices.sorted(by: { components.areas[$0] > components.areas[$1] }) where components.areas[c] >= minimumArea {
                let label = Int32(c + 1)
                let found = Mask(width: w, height: h, pixels: components.labels.map { $0 == label ? 1 : 0 }).fillingHoles()
                var regions = [found]
                if config.lesionSizedNegatives, let l = lesion.boundingBox, let r = found.boundingBox {
                    regions = config.lesionSizedScales.map { k in
                        let (bw, bh) = (max(1, Int((k * Double(l.width)).rounded())), max(1, Int((k * Double(l.height)).rounded())))
                        return PixelBox(x: (2 * r.x + r.width - bw) / 2, y: (2 * r.y + r.height - bh) / 2, width: bw, height: bh)
                            .mask(width: w, height: h)
                    }
                }
                for region in regions where !region.isEmpty {
                    if lesionArea > 0 && Double(config.crop.box(around: region).apply(lesion).area) > config.maxLesionShare * Double(lesionArea) { continue }
                    return (region, t)
                }
            }
        }
        return nil
    }
}

/// What `PresenceCandidateWriter.write` did.
public struct PresenceCandidateSummary: Sendable {
    public var candidates: [PresenceCandidate]
    /// Lesion images where the segmenter gave no region away from the lesion (only their lesion was written).
    public var lesionImagesWithoutCandidate: [String]
    /// Normal images where the segmenter gave no region at all (at inference they are already called normal).
    public var normalImagesWithoutCandidate: [String]
}

/// Writes the candidates dataset (`images/`, `masks/` holding each region, `labels.csv`, `split.json` keeping each
/// region in its source image's part, `candidates.csv` naming its source, threshold and box). The folder
/// appears whole or not at all.
public enum PresenceCandidateWriter {
    public static func write(_ dataset: Dataset, split: DatasetSplit, segmenter: Segmenter, config: PresenceCandidateConfig,
                             to out: URL, log: (String) -> Void) throws -> PresenceCandidateSummary {
        if let problem = config.problems.first { throw DatasetError.invalidConfiguration("candidates: \(problem)") }
        guard segmenter.segments else { throw PipelineError.invalidConfig("\(segmenter.url.path) does not segment") }
        let partOf = try split.parts(fold: 0)
        let samples = dataset.samples.filter { partOf[$0.id] != nil }
        return try Folders.writeWhole(out, what: "candidates") { staging in
            let images = staging.appendingPathComponent("images"), masks = staging.appendingPathComponent("masks")
            try Folders.create(images); try Folders.create(masks)
            var summary = PresenceCandidateSummary(candidates: [], lesionImagesWithoutCandidate: [], normalImagesWithoutCandidate: [])
            func add(_ sample: Sample, _ image: GrayImage, _ region: Mask, label: String, threshold: Float?) throws {
                let id = "\(sample.id)-\(label == "lesion" ? "lesion" : "candidate")"
                try ImageIO.writePNG(image, to: images.appendingPathComponent("\(id).png"))
                try ImageIO.writePNG(region, to: masks.appendingPathComponent("\(id).png"))
                summary.candidates.append(PresenceCandidate(id: id, source: sample.id, part: partOf[sample.id]!, label: label,
                                                            threshold: threshold, box: region.boundingBox!))
            }
            _ = try predictSamples(segmenter, samples, flipTTA: false, onError: .fail,
                                   progress: ProgressBar(total: samples.count, label: "candidates")) { _, sample, loaded, prediction in
                guard let probability = prediction.lesion else { throw PipelineError.invalidConfig("\(segmenter.url.path) gave no lesion map") }
                let hasLesion = !loaded.mask.isEmpty
                if hasLesion { try add(sample, loaded.image, loaded.mask, label: "lesion", threshold: nil) }
                guard hasLesion || config.includeNormalImages else { return "" }
                if let (region, t) = PresenceCandidateSampler.candidate(probability: probability, lesion: loaded.mask, config: config) {
                    try add(sample, loaded.image, region, label: "normal", threshold: t)
                } else if hasLesion {
                    summary.lesionImagesWithoutCandidate.append(sample.id)
                } else {
                    summary.normalImagesWithoutCandidate.append(sample.id)
                }
                return ""
            }
            guard summary.candidates.contains(where: { $0.label == "normal" }), summary.candidates.contains(where: { $0.label == "lesion" }) else {
                throw DatasetError.invalidConfiguration("\(dataset.root.path): the split gave no lesion or no candidate away from a lesion; nothing to train on")
            }
            var listing = "id,source,part,label,threshold,x,y,width,height\n"
            for c in summary.candidates {
                listing += "\(CSVField.escape(c.id)),\(CSVField.escape(c.source)),\(c.part),\(c.label),\(c.threshold.map { "\($0)" } ?? ""),"
                    + "\(c.box.x),\(c.box.y),\(c.box.width),\(c.box.height)\n"
            }
            try AtomicFile.write(Data(listing.utf8), to: staging.appendingPathComponent("candidates.csv"))
            try DerivedDataset.writeIndex(summary.candidates.map { DerivedDataset.Entry(id: $0.id, part: $0.part, label: $0.label) },
                                          source: split, root: out, into: staging)
            try JSONFiles.write(config, to: staging.appendingPathComponent("candidates-config.json"))
            let negatives = summary.candidates.filter { $0.label == "normal" }.count
            log("\(summary.candidates.count) regions from \(samples.count) images: \(summary.candidates.count - negatives) lesions, "
                + "\(negatives) candidates away from any lesion; \(summary.lesionImagesWithoutCandidate.count) lesion images and "
                + "\(summary.normalImagesWithoutCandidate.count) normal images gave no candidate")
            return summary
        }
    }
}
