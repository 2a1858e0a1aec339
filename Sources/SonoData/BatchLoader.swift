import Foundation
import SonoBase
import SonoImaging

/// What to do with a sample whose files cannot be used.
public enum ErrorPolicy: String, Codable, Sendable {
    /// Stop: the batch stream throws an error naming the file.
    case fail
    /// Leave the sample out of its batch and record it in `BatchLoader.skipped` for the run log.
    case skip
}

/// Batching settings. Missing keys in a JSON file take the defaults.
public struct LoaderConfig: Codable, Sendable, Equatable, DefaultDecodable {
    public var batchSize = 8
    public var shuffle = true
    /// Leave out a final, smaller batch.
    public var dropLast = false
    /// Batches prepared ahead of the consumer.
    public var prefetchBatches = 4
    public var onError = ErrorPolicy.fail
    public var seed: UInt64 = 0

    public init(batchSize: Int = 8, shuffle: Bool = true, dropLast: Bool = false, prefetchBatches: Int = 4,
                onError: ErrorPolicy = .fail, seed: UInt64 = 0) {
        (self.batchSize, self.shuffle, self.dropLast) = (batchSize, shuffle, dropLast)
        (self.prefetchBatches, self.onError, self.seed) = (prefetchBatches, onError, seed)
    }
    public init() { self.init(batchSize: 8) }

    enum CodingKeys: String, CodingKey { case batchSize, shuffle, dropLast, prefetchBatches, onError, seed }

}

/// A batch in the layout the tensor engine takes: N×1×H×W, row-major, contiguous.
public struct Batch: Sendable {
    public var count: Int
    public var height: Int
    public var width: Int
    /// Normalised grey images, N×1×H×W.
    public var images: [Float]
    /// Masks, N×1×H×W, each value 0 or 1.
    public var masks: [Float]
    /// Class index into `BatchLoader.classNames`, or −1 when the sample has no class.
    public var labels: [Int]
    public var ids: [String]
    /// Per sample: how the original image maps into the H×W input.
    public var geometries: [LetterboxGeometry]

    public init(count: Int, height: Int, width: Int, images: [Float], masks: [Float], labels: [Int], ids: [String],
                geometries: [LetterboxGeometry]) {
        precondition(images.count == count * height * width && masks.count == images.count,
                     "batch of \(count)×1×\(height)×\(width) needs \(count * height * width) image and mask values, got \(images.count) and \(masks.count)")
        (self.count, self.height, self.width, self.images, self.masks) = (count, height, width, images, masks)
        (self.labels, self.ids, self.geometries) = (labels, ids, geometries)
    }
}

/// A sample that was left out under `ErrorPolicy.skip`.
public struct SkippedSample: Codable, Sendable, Equatable {
    public var id: String
    public var path: String
    public var reason: String

    public init(id: String, path: String, reason: String) {
        (self.id, self.path, self.reason) = (id, path, reason)
    }
}

/// Which part of each epoch's batches one process of a data-parallel job loads (`BatchLoader.split`).
public enum BatchSplit: Sendable, Equatable {
    /// Every batch whole (one process).
    case whole
    /// Part `part` of `parts` of every batch: its contiguous share of the batch's n members, ⌊part·n/parts⌋ ..<
    /// ⌊(part+1)·n/parts⌋. Training: the batches
    /// of all parts together are the one-process batches, augmentation included. A share may be empty; it is
    /// still delivered (count 0), so every part takes the same number of steps.
    case withinBatches(part: Int, parts: Int)
    /// Batches part, part + parts, part + 2·parts, … whole (sharded validation: the same batches as one process).
    case wholeBatches(part: Int, parts: Int)
}

/// Turns samples into batches: decode (or read the disk cache), resize, augment, normalise, on all cores and
/// ahead of the consumer. The content of every batch depends only on the samples, the configs, the seed and
/// the epoch number: the order comes from (seed, epoch) and each sample's augmentation from
/// (seed, epoch, sample index), never from thread timing.
public final class BatchLoader: @unchecked Sendable {
    public let samples: [Sample]
    public let classNames: [String]
    public let preprocess: PreprocessConfig
    /// nil = no augmentation (validation).
    public let augmentation: AugmentationConfig?
    public let config: LoaderConfig
    let cache: PreprocessCache?
    /// The part of each epoch this loader delivers (data-parallel training); `.whole` by default.
    public var split: BatchSplit = .whole
    private let lock = NSLock()
    private var skippedList = [SkippedSample]()

    /// - Parameters:
    ///   - classNames: label order; default is the sorted class names of `samples`.
    ///   - cacheFolder: where to keep resized images between runs; nil for no cache.
    public init(samples: [Sample], classNames: [String]? = nil, preprocess: PreprocessConfig,
                augmentation: AugmentationConfig?, config: LoaderConfig, cacheFolder: URL? = nil) throws {
        guard config.batchSize > 0 else { throw DatasetError.invalidConfiguration("batch size must be positive, not \(config.batchSize)") }
        guard preprocess.width > 0, preprocess.height > 0 else {
            throw DatasetError.invalidConfiguration("image size must be positive, not \(preprocess.width)×\(preprocess.height)")
        }
        self.samples = samples
        self.classNames = classNames ?? Array(Set(samples.compactMap(\.className))).sorted()
        (self.preprocess, self.augmentation, self.config) = (preprocess, augmentation, config)
        cache = try cacheFolder.map { try PreprocessCache(folder: $0, config: preprocess) }
    }

    /// Samples left out so far under `.skip`, in the order they were met (deterministic per epoch).
    public var skipped: [SkippedSample] { lock.lock(); defer { lock.unlock() }; return skippedList }

    public var batchesPerEpoch: Int {
        config.dropLast ? samples.count / config.batchSize : (samples.count + config.batchSize - 1) / config.batchSize
    }

    /// Sample indices in the order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        var indices = Array(samples.indices)
        if config.shuffle {
            var rng = RandomGenerator(seed: config.seed, stream: [0x5348_5546, UInt64(epoch)])
            rng.shuffle(&indices)
        }
        return indices
    }

    /// The batches of `epoch`, prepared on a background thread; read them with `next()`.
    public func epoch(_ epoch: Int) -> BatchStream {
        BatchStream(loader: self, epoch: epoch)
    }

    /// Builds batch `number` of `epoch` synchronously (what the background thread runs).
    public func makeBatch(epoch: Int, number: Int, order: [Int]) throws -> Batch {
        let start = number * config.batchSize
        var members = Array(order[start..<min(order.count, start + config.batchSize)])
        if case let .withinBatches(part, parts) = split {
            let n = members.count
            members = Array(members[(part * n / parts)..<((part + 1) * n / parts)])
        }
        let results = Concurrently.map(members.count) { k -> Result<ResizedSample, Error> in
            Result { try self.sampleTensor(index: members[k], epoch: epoch) }
        }
        let h = preprocess.height, w = preprocess.width, plane = h * w
        var batch = Batch(count: 0, height: h, width: w, images: [], masks: [], labels: [], ids: [], geometries: [])
        batch.images.reserveCapacity(members.count * plane)
        batch.masks.reserveCapacity(members.count * plane)
        for (k, result) in results.enumerated() {
            let sample = samples[members[k]]
            switch result {
            case let .success(prepared):
                batch.images += prepared.image.pixels
                batch.masks += prepared.mask.pixels.map { Float($0) }
                batch.labels.append(sample.className.flatMap { classNames.firstIndex(of: $0) } ?? -1)
                batch.ids.append(sample.id)
                batch.geometries.append(prepared.geometry)
                batch.count += 1
            case let .failure(error):
                guard config.onError == .skip else { throw error }
                var path = sample.imageURL.path, reason = "\(error)"
                if case let DatasetError.sampleFailed(_, failedPath, why) = error { path = failedPath; reason = why }
                lock.lock(); skippedList.append(SkippedSample(id: sample.id, path: path, reason: reason)); lock.unlock()
            }
        }
        return batch
    }

    /// One sample ready for the network: resized (via the cache), augmented with its own RNG stream,
    /// normalised. The returned `image` holds normalised values.
    public func sampleTensor(index: Int, epoch: Int) throws -> ResizedSample {
        let sample = samples[index]
        var resized: ResizedSample
        if let cached = cache?.load(sample), cached.image.width == preprocess.width, cached.image.height == preprocess.height {
            resized = cached
        } else {
            let loaded = try sample.load()
            resized = Preprocessor(preprocess).resize(image: loaded.image, mask: loaded.mask)
            try cache?.store(resized, for: sample)
        }
        if let augmentation {
            var rng = RandomGenerator(seed: config.seed, stream: [0x4155_4755, UInt64(epoch), UInt64(index)])
            (resized.image, resized.mask) = Augmenter(augmentation).apply(image: resized.image, mask: resized.mask, rng: &rng)
        }
        preprocess.normalization.apply(to: &resized.image.pixels)
        return resized
    }
}

/// The batches of one epoch, produced by a background thread into a bounded queue. `next()` returns them
/// in order, `nil` at the end, or throws the error that stopped production (under `ErrorPolicy.fail`).
/// Dropping the stream stops the producer.
public final class BatchStream: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready = [Batch]()
    private var finished = false
    private var failure: Error?
    private var cancelled = false

    init(loader: BatchLoader, epoch: Int) {
        let order = loader.order(epoch: epoch)
        let total = loader.batchesPerEpoch
        let capacity = max(1, loader.config.prefetchBatches)
        let thread = Thread { [weak self, loader] in
            let split = loader.split
            var keepEmpty = false
            if case .withinBatches = split { keepEmpty = true }
            for number in 0..<total {
                if case let .wholeBatches(part, parts) = split, number % parts != part { continue }
                let result = Result { try loader.makeBatch(epoch: epoch, number: number, order: order) }
                guard let self else { return }
                self.condition.lock()
                while self.ready.count >= capacity && !self.cancelled { self.condition.wait() }
                if self.cancelled { self.condition.unlock(); return }
                switch result {
                case let .success(batch):
                    // A data-parallel share is delivered even when empty: every rank takes every step.
                    if batch.count > 0 || keepEmpty { self.ready.append(batch) }
                case let .failure(error): self.failure = error; self.finished = true
                }
                self.condition.broadcast()
                self.condition.unlock()
                if case .failure = result { return }
            }
            guard let self else { return }
            self.condition.lock(); self.finished = true; self.condition.broadcast(); self.condition.unlock()
        }
        thread.name = "SonoData.BatchStream"
        thread.start()
    }

    deinit { cancel() }

    /// Stops the producer after the batch it is working on.
    public func cancel() {
        condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
    }

    public func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if !ready.isEmpty {
            let batch = ready.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }
}
