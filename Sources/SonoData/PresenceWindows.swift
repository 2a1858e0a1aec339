import Foundation
import SonoBase
import SonoImaging

/// How lesion-free and lesion-holding windows are cut from lesion images (`sonoseg dataset windows`).
///
/// Why: a lesion/normal classifier trained on one hospital's normal scans learns that hospital's scanner, and
/// calls every other scanner's normal tissue "lesion". Windows cut from the lesion images of every training
/// dataset give negatives from every scanner. Each negative comes with a positive of the same size cut from the
/// same image, so neither the window's size nor its source tells the class. Windows may sit anywhere in the
/// frame: BUS-BRA's frames are cropped close to the lesion (half the width, a fifth of the depth above it), so
/// most of their lesion-free tissue lies beside or below the lesion.
public struct PresenceWindowConfig: Codable, Sendable, Equatable, DefaultDecodable {
    /// Negative/positive pairs tried per image.
    public var pairsPerImage = 3
    /// Window width as a fraction of the image width.
    public var widthFraction = Interval(0.25, 0.9)
    /// Window height as a fraction of the image height.
    public var heightFraction = Interval(0.3, 1.0)
    /// Gap between a negative window and the lesion's bounding box, as a fraction of the box's larger side
    /// (at least 2 px), so no lesion edge or shadow margin is called lesion-free.
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

/// A rectangle of an image in pixels.
public struct PixelBox: Codable, Sendable, Equatable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) { (self.x, self.y, self.width, self.height) = (x, y, width, height) }

    /// The bounding box of `mask`'s set pixels; nil when it has none.
    public init?(around mask: Mask) {
        var (minX, minY, maxX, maxY) = (Int.max, Int.max, -1, -1)
        for y in 0..<mask.height {
            for x in 0..<mask.width where mask.pixels[y * mask.width + x] != 0 {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= 0 else { return nil }
        self.init(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
    }

    public func contains(_ other: PixelBox) -> Bool {
        other.x >= x && other.y >= y && other.x + other.width <= x + width && other.y + other.height <= y + height
    }
    public func intersects(_ other: PixelBox) -> Bool {
        x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
    }
    /// This box grown by `by` pixels on every side.
    public func grown(by d: Int) -> PixelBox { PixelBox(x: x - d, y: y - d, width: width + 2 * d, height: height + 2 * d) }

    public func apply(_ image: GrayImage) -> GrayImage {
        var out = GrayImage(width: width, height: height)
        for row in 0..<height { for col in 0..<width { out.pixels[row * width + col] = image.pixels[(y + row) * image.width + x + col] } }
        return out
    }
    public func apply(_ mask: Mask) -> Mask {
        var out = Mask(width: width, height: height)
        for row in 0..<height { for col in 0..<width { out.pixels[row * width + col] = mask.pixels[(y + row) * mask.width + x + col] } }
        return out
    }
}

/// Draws the window pairs of one image.
public enum PresenceWindowSampler {
    /// Up to `config.pairsPerImage` pairs for an image of `width`×`height` whose lesion has the bounding box
    /// `lesion`: in each pair both windows have the same size; the negative stays `clearance` away from the
    /// lesion, the positive holds all of it with the same clearance.
    public static func pairs(width: Int, height: Int, lesion: PixelBox, config: PresenceWindowConfig,
                             rng: inout RandomGenerator) -> [(negative: PixelBox, positive: PixelBox)] {
        let gap = max(2, Int((config.clearance * Double(max(lesion.width, lesion.height))).rounded()))
        let keepOut = lesion.grown(by: gap)
        var out = [(negative: PixelBox, positive: PixelBox)]()
        for _ in 0..<config.pairsPerImage {
            for _ in 0..<config.tries {
                let w = max(8, Int((config.widthFraction.sample(&rng) * Double(width)).rounded()))
                let h = max(8, Int((config.heightFraction.sample(&rng) * Double(height)).rounded()))
                guard w <= width, h <= height else { continue }
                // Positive: a position whose window holds the lesion and its clearance (clipped to the frame).
                let need = PixelBox(x: max(0, keepOut.x), y: max(0, keepOut.y),
                                    width: min(width, keepOut.x + keepOut.width) - max(0, keepOut.x),
                                    height: min(height, keepOut.y + keepOut.height) - max(0, keepOut.y))
                let (x0, x1) = (max(0, need.x + need.width - w), min(width - w, need.x))
                let (y0, y1) = (max(0, need.y + need.height - h), min(height - h, need.y))
                guard x0 <= x1, y0 <= y1 else { continue }
                // Negative: any position, on a 4-pixel grid, that keeps out of the lesion's surroundings.
                var free = [(Int, Int)]()
                for y in stride(from: 0, through: height - h, by: 4) {
                    for x in stride(from: 0, through: width - w, by: 4)
                    where !PixelBox(x: x, y: y, width: w, height: h).intersects(keepOut) { free.append((x, y)) }
                }
                guard !free.isEmpty else { continue }
                let (nx, ny) = free[rng.nextInt(below: free.count)]
                let negative = PixelBox(x: nx, y: ny, width: w, height: h)
                let positive = PixelBox(x: x0 + rng.nextInt(below: x1 - x0 + 1), y: y0 + rng.nextInt(below: y1 - y0 + 1), width: w, height: h)
                out.append((negative, positive))
                break
            }
        }
        return out
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
}

/// Writes a paired dataset (`images/`, `masks/`, `labels.csv` with "lesion"/"normal", `split.json` keeping each
/// window in its source image's partition, `windows.csv` naming each window's source and box) that `train`
/// and `classify` read like any other. The folder appears whole or not at all.
public enum PresenceWindowWriter {
    public static func write(_ dataset: Dataset, split: DatasetSplit, config: PresenceWindowConfig, to out: URL,
                             log: (String) -> Void) throws -> PresenceWindowSummary {
        if let problem = config.problems.first { throw DatasetError.invalidConfiguration("windows: \(problem)") }
        if FileManager.default.fileExists(atPath: out.path) {
            throw DatasetError.invalidConfiguration("\(out.path) already exists; windows are never written over another folder")
        }
        let (train, validation) = try split.partition(fold: 0)
        var partOf = [String: String]()
        for id in train { partOf[id] = "train" }
        for id in validation { partOf[id] = "validation" }
        for id in split.test { partOf[id] = "test" }

        let staging = out.deletingLastPathComponent().appendingPathComponent(".\(out.lastPathComponent).partial-\(getpid())")
        try? FileManager.default.removeItem(at: staging)
        defer { try? FileManager.default.removeItem(at: staging) }
        let images = staging.appendingPathComponent("images"), masks = staging.appendingPathComponent("masks")
        try Folders.create(images); try Folders.create(masks)

        var summary = PresenceWindowSummary(windows: [], imagesWithoutPair: [], imagesWithoutLesion: [])
        var rng = RandomGenerator(seed: config.seed)
        for sample in dataset.samples {
            guard let part = partOf[sample.id] else { continue }
            var imageRNG = rng.fork()
            let loaded = try sample.load()
            guard let lesion = PixelBox(around: loaded.mask) else { summary.imagesWithoutLesion.append(sample.id); continue }
            let pairs = PresenceWindowSampler.pairs(width: loaded.image.width, height: loaded.image.height, lesion: lesion,
                                                    config: config, rng: &imageRNG)
            if pairs.isEmpty { summary.imagesWithoutPair.append(sample.id) }
            for (k, pair) in pairs.enumerated() {
                for (label, box) in [("normal", pair.negative), ("lesion", pair.positive)] {
                    let id = "\(sample.id)-w\(k)-\(label == "normal" ? "free" : "lesion")"
                    try ImageIO.writePNG(box.apply(loaded.image), to: images.appendingPathComponent("\(id).png"))
                    try ImageIO.writePNG(box.apply(loaded.mask), to: masks.appendingPathComponent("\(id).png"))
                    summary.windows.append(PresenceWindow(id: id, source: sample.id, sourcePath: sample.imageURL.path,
                                                          part: part, label: label, box: box))
                }
            }
        }
        guard !summary.windows.isEmpty else {
            throw DatasetError.invalidConfiguration("\(dataset.root.path): no window could be cut (no lesion image in the split?)")
        }
        var labels = "image,label\n", listing = "id,source,part,label,x,y,width,height\n"
        for w in summary.windows {
            labels += "\(CSVField.escape(w.id)),\(w.label)\n"
            listing += "\(CSVField.escape(w.id)),\(CSVField.escape(w.source)),\(w.part),\(w.label),\(w.box.x),\(w.box.y),\(w.box.width),\(w.box.height)\n"
        }
        try AtomicFile.write(Data(labels.utf8), to: staging.appendingPathComponent("labels.csv"))
        try AtomicFile.write(Data(listing.utf8), to: staging.appendingPathComponent("windows.csv"))
        let ids = { (part: String) in summary.windows.filter { $0.part == part }.map(\.id) }
        let windowSplit = DatasetSplit(version: split.version, configuration: SplitConfiguration(folds: 1, seed: config.seed),
                                       layout: DatasetLayout.paired.rawValue, root: out.path, test: ids("test"), folds: [],
                                       train: ids("train"), validation: ids("validation"))
        try SplitStore.write(windowSplit, to: staging.appendingPathComponent("split.json"))
        try JSONFiles.write(config, to: staging.appendingPathComponent("windows-config.json"))
        try FileManager.default.moveItem(at: staging, to: out)
        log("\(summary.windows.count) windows from \(Set(summary.windows.map(\.source)).count) images; "
            + "\(summary.imagesWithoutPair.count) lesion images left no lesion-free window, \(summary.imagesWithoutLesion.count) had no lesion")
        return summary
    }
}
