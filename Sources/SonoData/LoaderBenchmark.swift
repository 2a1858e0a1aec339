import Foundation

/// Throughput of the data path alone (decode + resize + augment + normalise; no cache).
public struct LoaderBenchmarkResult: Codable, Sendable {
    public var images: Int
    public var seconds: Double
    public var imagesPerSecond: Double
    public var size: Int
    public var cores: Int
}

/// Measures images/second for `size`×`size` samples with the default augmentation, running the loader's
/// background producer exactly as training does. Stops after `maxImages` images or once `seconds` have passed
/// (at least one batch). Used by `sonoseg bench data` and `sonoseg dataset bench`.
public func benchmarkLoader(samples: [Sample], size: Int = 256, batchSize: Int = 16, maxImages: Int = 512,
                            seconds: Double = 20, augmentation: AugmentationConfig? = AugmentationConfig(),
                            seed: UInt64 = 0) throws -> LoaderBenchmarkResult {
    guard !samples.isEmpty else { throw DatasetError.invalidConfiguration("benchmark needs at least one sample") }
    let loader = try BatchLoader(samples: samples, preprocess: PreprocessConfig(width: size, height: size),
                                 augmentation: augmentation,
                                 config: LoaderConfig(batchSize: batchSize, onError: .skip, seed: seed))
    var images = 0, epoch = 0
    let start = Date()
    outer: while true {
        let stream = loader.epoch(epoch)
        while let batch = try stream.next() {
            images += batch.count
            if images >= maxImages || Date().timeIntervalSince(start) >= seconds { stream.cancel(); break outer }
        }
        epoch += 1
        if loader.skipped.count >= samples.count { break }
    }
    let elapsed = Date().timeIntervalSince(start)
    return LoaderBenchmarkResult(images: images, seconds: elapsed, imagesPerSecond: Double(images) / max(elapsed, 1e-9),
                                 size: size, cores: ProcessInfo.processInfo.activeProcessorCount)
}
