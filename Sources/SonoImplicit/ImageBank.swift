import Foundation
import SonoPipeline
import SonoMetrics
import SonoData
import SonoImaging
import SonoModels
import SonoTensor

/// Images and masks held in memory at the training resolution, intensities normalised (min-max to [0, 1] by
/// default), with their class indices for the conditioned network.
public struct ImageBank: Sendable {
    public var width: Int
    public var height: Int
    public var ids: [String] = []
    /// Per image [H·W].
    public var intensities: [[Float]] = []
    /// Per image [H·W], 0 or 1.
    public var masks: [[Float]] = []
    public var biradsIndex: [Int?] = []
    public var pathologyIndex: [Int?] = []
    /// Index into the network's `codeHeadClasses` (nil: no such label, e.g. a normal image; left out of the
    /// head's loss, not out of training).
    public var headIndex: [Int?] = []
    /// Where each image sits in its letterboxed square (maps readouts back to the image).
    public var geometries: [LetterboxGeometry] = []

    public var count: Int { ids.count }

    public init(width: Int, height: Int) { (self.width, self.height) = (width, height) }

    /// Appends one image already at the bank's size.
    public mutating func append(id: String, intensities: [Float], mask: [Float], birads: Int? = nil, pathology: Int? = nil,
                                head: Int? = nil, geometry: LetterboxGeometry? = nil) {
        precondition(intensities.count == width * height && mask.count == width * height,
                     "ImageBank: image \(id) has \(intensities.count)/\(mask.count) pixels, expected \(width)x\(height)")
        ids.append(id); self.intensities.append(intensities); masks.append(mask)
        biradsIndex.append(birads); pathologyIndex.append(pathology); headIndex.append(head)
        geometries.append(geometry ?? .stretch(sourceWidth: width, sourceHeight: height, targetWidth: width, targetHeight: height))
    }

    /// Class indices of `images` for the network's tables (nil entries where it has none). Images without a
    /// label get index 0; callers keep them out of conditioned training (`ImageBank.load` does).
    public func classes(_ images: [Int], network: ImplicitNetworkConfig) -> ClassIndices {
        ClassIndices(birads: network.biradsClasses.isEmpty ? nil : images.map { biradsIndex[$0] ?? 0 },
                     pathology: network.pathologyClasses.isEmpty ? nil : images.map { pathologyIndex[$0] ?? 0 })
    }

    /// `images` as an encoder input [B, 1, H, W], each mirrored left-right where `flips` says.
    public func batch(_ images: [Int], flips: [Bool]? = nil) -> Tensor {
        var values = [Float](); values.reserveCapacity(images.count * width * height)
        for (k, image) in images.enumerated() {
            let source = intensities[image], flipped = flips?[k] == true
            if flipped {
                for i in 0..<(width * height) { values.append(source[sourceIndex(i, flipped: true)]) }
            } else {
                values += source
            }
        }
        return Tensor(values, shape: [images.count, 1, height, width])
    }

    /// The stored pixel that pixel `i` of the image, mirrored left-right when `flipped`, shows.
    @inline(__always) func sourceIndex(_ i: Int, flipped: Bool) -> Int {
        flipped ? i - i % width + (width - 1 - i % width) : i
    }

    /// Loads `samples`, resized (cached in `cacheFolder` when given) and normalised. Samples lacking a label the
    /// network is conditioned on are left out (listed in the returned notes); unreadable ones fail or are
    /// skipped per `onError`.
    public static func load(_ samples: [Sample], preprocess: PreprocessConfig, network: ImplicitNetworkConfig,
                            cacheFolder: URL?, onError: ErrorPolicy) throws -> (bank: ImageBank, notes: [String]) {
        let cache = try cacheFolder.map { try PreprocessCache(folder: $0, config: preprocess) }
        let preprocessor = Preprocessor(preprocess)
        var bank = ImageBank(width: preprocess.width, height: preprocess.height)
        var notes: [String] = []
        let results = concurrentMap(samples) { sample -> Result<ResizedSample, Error> in
            if let hit = cache?.load(sample) { return .success(hit) }
            do {
                let loaded = try sample.load()
                let resized = preprocessor.resize(image: loaded.image, mask: loaded.mask)
                try? cache?.store(resized, for: sample)
                return .success(resized)
            } catch { return .failure(error) }
        }
        for (sample, result) in zip(samples, results) {
            let resized: ResizedSample
            switch result {
            case let .success(r): resized = r
            case let .failure(error):
                if onError == .fail { throw error }
                notes.append("\(sample.imageURL.path): skipped: \(error)"); continue
            }
            let b = ClassLabels.index(of: sample.birads, in: network.biradsClasses)
            let p = ClassLabels.index(of: sample.pathology ?? sample.className, in: network.pathologyClasses)
            if (!network.biradsClasses.isEmpty && b == nil) || (!network.pathologyClasses.isEmpty && p == nil) {
                notes.append("\(sample.imageURL.path): left out: no usable label (BI-RADS \(sample.birads ?? "none"), pathology \(sample.pathology ?? sample.className ?? "none"))")
                continue
            }
            var pixels = resized.image.pixels
            preprocess.normalization.apply(to: &pixels)
            bank.append(id: sample.id, intensities: pixels, mask: resized.mask.pixels.map(Float.init), birads: b, pathology: p,
                        head: ClassLabels.index(of: sample.pathology ?? sample.className, in: network.codeHeadClasses),
                        geometry: resized.geometry)
        }
        return (bank, notes)
    }
}

/// `body` over `items` on all cores, results in input order.
func concurrentMap<T, R>(_ items: [T], _ body: (T) -> R) -> [R] {
    var results = [R?](repeating: nil, count: items.count)
    results.withUnsafeMutableBufferPointer { buffer in
        let base = buffer.baseAddress!
        DispatchQueue.concurrentPerform(iterations: items.count) { i in base[i] = body(items[i]) }
    }
    return results.map { $0! }
}
