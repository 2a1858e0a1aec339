import Foundation
import SonoBase
import SonoImaging

/// How lesion-free and lesion-holding windows are cut from lesion images (`sonoseg dataset windows`).
///
/// Why: a lesion/normal classifier trained on one hospital's normal scans learns that hospital's scanner, and
/// calls every other scanner's normal tissue "lesion". Windows cut from the lesion images of every training
/// dataset give negatives from every scanner. Each negative comes with a positive of the same size cut from the
/// same image **at the same depth**, so neither the window's size, its source nor its depth (skin line above,
/// chest wall below) tells the class: the negative lies beside the lesion, never under it, where its posterior
/// shadow or enhancement would be. The positive holds at least the lesion's central half in each direction.
/// Where the sonographer's calipers surround the lesion, the negative gets drawn caliper marks too, so marks do
/// not tell the class either.
public struct PresenceWindowConfig: Codable, Sendable, Equatable, DefaultDecodable {
    /// Negative/positive pairs tried per image.
    public var pairsPerImage = 3
    /// Window width as a fraction of the image width.
    public var widthFraction = Interval(0.15, 0.8)
    /// Window height as a fraction of the image height.
    public var heightFraction = Interval(0.3, 1.0)
    /// Gap between a negative window and the lesion's bounding box (extended to the bottom of the frame), as a
    /// fraction of the box's larger side (at least 2 px), so no lesion edge or shadow is called lesion-free.
    public var clearance = 0.15
    /// Random draws per pair before the pair is given up (a lesion that fills the frame leaves no room).
    public var tries = 60
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey { case pairsPerImage, widthFraction, heightFraction, clearance, tries, seed }

    public var problems: [String] {
        var out = [String]()
        if pairsPerImage < 1 { out.append("pairsPerImage is \(pairsPerImage); at least 1") }
        for (name, r) in [("widthFraction", widthFraction), ("heightFraction", heightFraction)]
        where !(r.low > 0 && r.low <= r.high && r.high <= 1) {
            out.append("\(name) is \(r.low)-\(r.high); allowed: 0 < low ≤ high ≤ 1")
        }
        if !(0...1).contains(clearance) { out.append("clearance is \(clearance); allowed: 0-1") }
        if tries < 1 { out.append("tries is \(tries); at least 1") }
        return out
    }
}

/// Draws the window pairs of one image.
public enum PresenceWindowSampler {
    /// Up to `config.pairsPerImage` pairs for an image of `width`×`height` whose lesion has the bounding box
    /// `lesion`: in each pair both windows have the same size and the same rows; the negative keeps `clearance`
    /// away from the lesion and from the column below it, the positive holds the lesion's central half.
    public static func pairs(width: Int, height: Int, lesion: PixelBox, config: PresenceWindowConfig,
                             rng: inout RandomGenerator) -> [(negative: PixelBox, positive: PixelBox)] {
        let gap = max(2, Int((config.clearance * Double(max(lesion.width, lesion.height))).rounded()))
        let (keepLeft, keepRight) = (lesion.x - gap, lesion.x + lesion.width + gap)   // columns [keepLeft, keepRight)
        let core = PixelBox(x: lesion.x + lesion.width / 4, y: lesion.y + lesion.height / 4,
                            width: max(1, lesion.width - 2 * (lesion.width / 4)), height: max(1, lesion.height - 2 * (lesion.height / 4)))
        var out = [(negative: PixelBox, positive: PixelBox)]()
        for _ in 0..<config.pairsPerImage {
            for _ in 0..<config.tries {
                let w = max(8, Int((config.widthFraction.sample(&rng) * Double(width)).rounded()))
                let h = max(8, Int((config.heightFraction.sample(&rng) * Double(height)).rounded()))
                guard w <= width, h <= height else { continue }
                // Positive: holds the core; rows shared with the negative.
                let (x0, x1) = (max(0, core.x + core.width - w), min(width - w, core.x))
                let (y0, y1) = (max(0, core.y + core.height - h), min(height - h, core.y))
                guard x0 <= x1, y0 <= y1 else { continue }
                // Negative: wholly left of or right of the kept-out columns.
                var starts = [ClosedRange<Int>]()
                if keepLeft - w >= 0 { starts.append(0...(keepLeft - w)) }
                if keepRight <= width - w { starts.append(keepRight...(width - w)) }
                let count = starts.reduce(0) { $0 + $1.count }
                guard count > 0 else { continue }
                var k = rng.nextInt(below: count), nx = 0
                for r in starts { if k < r.count { nx = r.lowerBound + k; break }; k -= r.count }
                let y = y0 + rng.nextInt(below: y1 - y0 + 1)
                let positive = PixelBox(x: x0 + rng.nextInt(below: x1 - x0 + 1), y: y, width: w, height: h)
                out.append((PixelBox(x: nx, y: y, width: w, height: h), positive))
                break
            }
        }
        return out
    }

    /// Whether burnt-in marks surround the lesion (calipers): enough annotation pixels within two clearances of
    /// its box. Text beside the image rarely comes that close.
    public static func hasCalipers(_ annotations: Mask, lesion: PixelBox, clearance: Double) -> Bool {
        let gap = max(2, Int((2 * clearance * Double(max(lesion.width, lesion.height))).rounded()))
        return lesion.grown(by: gap).apply(annotations).area >= 6
    }
}

/// One window written by `PresenceWindowWriter`.
public struct PresenceWindow: Codable, Sendable, Equatable {
    public var id: String
    public var source: String
    public var sourcePath: String
    public var part: String
    public var label: String
    public var box: PixelBox
}

/// What `PresenceWindowWriter.write` did.
public struct PresenceWindowSummary: Sendable {
    public var windows: [PresenceWindow]
    /// Lesion images that gave no pair (the lesion leaves no lesion-free window of the allowed sizes).
    public var imagesWithoutPair: [String]
    /// Images of the split without a lesion (no positive window can come from them; left out).
    public var imagesWithoutLesion: [String]
    /// Images whose lesion is surrounded by caliper marks: their negative windows got drawn marks.
    public var imagesWithCalipers = 0
}

/// Writes a paired dataset (`images/`, `masks/`, `labels.csv` with "lesion"/"normal", `split.json` keeping each
/// window in its source image's partition, `windows.csv` naming each window's source and box) that `train`
/// and `classify` read like any other. The folder appears whole or not at all.
public enum PresenceWindowWriter {
    public static func write(_ dataset: Dataset, split: DatasetSplit, config: PresenceWindowConfig, to out: URL,
                             log: (String) -> Void) throws -> PresenceWindowSummary {
        if let problem = config.problems.first { throw DatasetError.invalidConfiguration("windows: \(problem)") }
        let partOf = try split.parts(fold: 0)
        return try Folders.writeWhole(out, what: "windows") { staging in
            let images = staging.appendingPathComponent("images"), masks = staging.appendingPathComponent("masks")
            try Folders.create(images); try Folders.create(masks)

            var summary = PresenceWindowSummary(windows: [], imagesWithoutPair: [], imagesWithoutLesion: [])
            var rng = RandomGenerator(seed: config.seed)
            for sample in dataset.samples {
                guard let part = partOf[sample.id] else { continue }
                var imageRNG = rng.fork()
                let loaded = try sample.load()
                guard let lesion = loaded.mask.boundingBox else { summary.imagesWithoutLesion.append(sample.id); continue }
                let pairs = PresenceWindowSampler.pairs(width: loaded.image.width, height: loaded.image.height, lesion: lesion,
                                                        config: config, rng: &imageRNG)
                if pairs.isEmpty { summary.imagesWithoutPair.append(sample.id); continue }
                let calipers = PresenceWindowSampler.hasCalipers(AnnotationDetector().detect(try ImageIO.read(sample.imageURL)),
                                                                 lesion: lesion, clearance: config.clearance)
                if calipers { summary.imagesWithCalipers += 1 }
                for (k, pair) in pairs.enumerated() {
                    for (label, box) in [("normal", pair.negative), ("lesion", pair.positive)] {
                        let id = "\(sample.id)-w\(k)-\(label == "normal" ? "free" : "lesion")"
                        var pixels = box.apply(loaded.image)
                        if calipers && label == "normal" { Augmenter.drawMarks(&pixels, rng: &imageRNG) }
                        try ImageIO.writePNG(pixels, to: images.appendingPathComponent("\(id).png"))
                        try ImageIO.writePNG(box.apply(loaded.mask), to: masks.appendingPathComponent("\(id).png"))
                        summary.windows.append(PresenceWindow(id: id, source: sample.id, sourcePath: sample.imageURL.path,
                                                              part: part, label: label, box: box))
                    }
                }
            }
            guard !summary.windows.isEmpty else {
                throw DatasetError.invalidConfiguration("\(dataset.root.path): no window could be cut (no lesion image in the split?)")
            }
            var listing = "id,source,part,label,x,y,width,height\n"
            for w in summary.windows {
                listing += "\(CSVField.escape(w.id)),\(CSVField.escape(w.source)),\(w.part),\(w.label),\(w.box.x),\(w.box.y),\(w.box.width),\(w.box.height)\n"
            }
            try AtomicFile.write(Data(listing.utf8), to: staging.appendingPathComponent("windows.csv"))
            try DerivedDataset.writeIndex(summary.windows.map { DerivedDataset.Entry(id: $0.id, part: $0.part, label: $0.label) },
                                          source: split, root: out, into: staging)
            try JSONFiles.write(config, to: staging.appendingPathComponent("windows-config.json"))
            log("\(summary.windows.count) windows from \(Set(summary.windows.map(\.source)).count) images; "
                + "\(summary.imagesWithoutPair.count) lesion images left no lesion-free window beside the lesion, "
                + "\(summary.imagesWithoutLesion.count) had no lesion; \(summary.imagesWithCalipers) had calipers (drawn on their negatives too)")
            return summary
        }
    }
}
