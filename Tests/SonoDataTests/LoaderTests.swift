import Foundation
import SonoImaging
@testable import SonoData
import XCTest

final class LoaderTests: XCTestCase {
    private func pairedDataset(count: Int = 10, broken: Bool = false) throws -> (SyntheticDatasets, Dataset) {
        let data = try SyntheticDatasets()
        var labels = "image,label\n"
        for i in 0..<count {
            try data.write(SyntheticDatasets.image(seed: i, width: 20 + i, height: 16), "set/images/s\(i).png")
            try data.write(SyntheticDatasets.mask(width: 20 + i, height: 16, x: 3..<9, y: 4..<10), "set/masks/s\(i).png")
            labels += "s\(i).png,\(i % 3 == 0 ? "malignant" : "benign")\n"
        }
        if broken { try data.writeText("garbage", "set/images/s3.png") }
        try data.writeText(labels, "set/labels.csv")
        return (data, try Dataset.read(data.root.appendingPathComponent("set")))
    }

    func testBatchesHaveTheRightShapeAndLabels() throws {
        let (_, dataset) = try pairedDataset()
        let loader = try BatchLoader(samples: dataset.samples, preprocess: PreprocessConfig(width: 16, height: 12),
                                     augmentation: nil, config: LoaderConfig(batchSize: 4, shuffle: false))
        XCTAssertEqual(loader.classNames, ["benign", "malignant"])
        XCTAssertEqual(loader.batchesPerEpoch, 3)
        let stream = loader.epoch(0)
        var batches = [Batch]()
        while let batch = try stream.next() { batches.append(batch) }
        XCTAssertEqual(batches.map(\.count), [4, 4, 2])
        let first = batches[0]
        XCTAssertEqual(first.images.count, 4 * 1 * 12 * 16)
        XCTAssertEqual(first.masks.count, 4 * 12 * 16)
        XCTAssertTrue(first.masks.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertEqual(first.ids, ["s0", "s1", "s2", "s3"])
        XCTAssertEqual(first.labels, [1, 0, 0, 1])
        // z-score per image: each N-slice has mean ~0.
        let plane = 12 * 16
        let mean = first.images[plane..<(2 * plane)].reduce(0, +) / Float(plane)
        XCTAssertEqual(mean, 0, accuracy: 1e-4)
        XCTAssertEqual(first.geometries[0].sourceWidth, 20)
    }

    func testDeterministicForASeedRegardlessOfTiming() throws {
        let (_, dataset) = try pairedDataset()
        func run(prefetch: Int, seed: UInt64) throws -> [[Float]] {
            let loader = try BatchLoader(samples: dataset.samples, preprocess: PreprocessConfig(width: 16, height: 16),
                                         augmentation: AugmentationConfig(),
                                         config: LoaderConfig(batchSize: 3, prefetchBatches: prefetch, seed: seed))
            let stream = loader.epoch(2)
            var out = [[Float]]()
            while let batch = try stream.next() {
                if prefetch == 1 { usleep(2000) }  // a slow consumer changes timing, not content
                out.append(batch.images + batch.masks)
            }
            return out
        }
        let a = try run(prefetch: 4, seed: 5)
        XCTAssertEqual(a, try run(prefetch: 1, seed: 5))
        XCTAssertNotEqual(a, try run(prefetch: 4, seed: 6))
    }

    /// Data-parallel shares: the parts of every batch, side by side, are the one-process batch (augmentation
    /// included), a part too small for a share still gets its (empty) batch, and whole-batch shards take turns.
    func testSplitsOfABatchAddUpToTheWholeBatch() throws {
        let (_, dataset) = try pairedDataset(count: 10)
        func batches(_ split: BatchSplit) throws -> [Batch] {
            let loader = try BatchLoader(samples: dataset.samples, preprocess: PreprocessConfig(width: 8, height: 8),
                                         augmentation: AugmentationConfig(), config: LoaderConfig(batchSize: 4, seed: 3))
            loader.split = split
            let stream = loader.epoch(1)
            var out = [Batch]()
            while let batch = try stream.next() { out.append(batch) }
            return out
        }
        let whole = try batches(.whole)
        XCTAssertEqual(whole.map(\.count), [4, 4, 2])
        for parts in [2, 3] {
            let shares = try (0..<parts).map { try batches(.withinBatches(part: $0, parts: parts)) }
            for share in shares { XCTAssertEqual(share.count, whole.count, "every part takes every step") }
            for (b, batch) in whole.enumerated() {
                XCTAssertEqual(shares.flatMap { $0[b].ids }, batch.ids)
                XCTAssertEqual(shares.flatMap { $0[b].images }, batch.images)
                XCTAssertEqual(shares.flatMap { $0[b].masks }, batch.masks)
            }
        }
        XCTAssertEqual(try batches(.withinBatches(part: 0, parts: 3))[2].count, 0, "2 images over 3 parts: part 0 gets none")
        let turns = try (0..<2).map { try batches(.wholeBatches(part: $0, parts: 2)) }
        XCTAssertEqual(turns[0].map(\.ids), [whole[0].ids, whole[2].ids])
        XCTAssertEqual(turns[1].map(\.ids), [whole[1].ids])
    }

    func testEpochsShuffleDifferently() throws {
        let (_, dataset) = try pairedDataset()
        let loader = try BatchLoader(samples: dataset.samples, preprocess: PreprocessConfig(width: 8, height: 8),
                                     augmentation: nil, config: LoaderConfig(batchSize: 10, seed: 1))
        XCTAssertNotEqual(loader.order(epoch: 0), loader.order(epoch: 1))
        XCTAssertEqual(loader.order(epoch: 0).sorted(), Array(0..<10))
    }

    func testCancellingAStreamStopsItsProducer() throws {
        let (_, dataset) = try pairedDataset()
        let loader = try BatchLoader(samples: dataset.samples, preprocess: PreprocessConfig(width: 8, height: 8),
                                     augmentation: nil, config: LoaderConfig(batchSize: 1, prefetchBatches: 1))
        let stream = loader.epoch(0)
        XCTAssertNotNil(try stream.next())
        stream.cancel()
        // A fresh stream of the same epoch is unaffected and complete.
        var count = 0
        let again = loader.epoch(0)
        while let batch = try again.next() { count += batch.count }
        XCTAssertEqual(count, 10)
    }

    func testFailPolicyThrowsNamingTheFile() throws {
        let (data, dataset) = try pairedDataset(broken: true)
        let loader = try BatchLoader(samples: dataset.samples, preprocess: PreprocessConfig(width: 8, height: 8),
                                     augmentation: nil, config: LoaderConfig(batchSize: 2, shuffle: false))
        let stream = loader.epoch(0)
        XCTAssertNotNil(try stream.next(), "the batch before the broken file arrives")
        XCTAssertThrowsError(try stream.next()) { error in
            XCTAssertEqual("\(error)", "\(data.path("set/images/s3.png")): sample s3 failed "
                + "(\(data.path("set/images/s3.png")): not a PNG/JPEG/BMP/TIFF/DICOM image)")
        }
    }

    func testSkipPolicyRecordsTheFile() throws {
        let (data, dataset) = try pairedDataset(broken: true)
        let loader = try BatchLoader(samples: dataset.samples, preprocess: PreprocessConfig(width: 8, height: 8),
                                     augmentation: nil, config: LoaderConfig(batchSize: 4, shuffle: false, onError: .skip))
        let stream = loader.epoch(0)
        var counts = [Int]()
        while let batch = try stream.next() { counts.append(batch.count) }
        XCTAssertEqual(counts, [3, 4, 2])
        XCTAssertEqual(loader.skipped, [SkippedSample(id: "s3", path: data.path("set/images/s3.png"),
                                                      reason: "\(data.path("set/images/s3.png")): not a PNG/JPEG/BMP/TIFF/DICOM image")])
    }

    func testDiskCacheIsUsedAndKeyedByFileAndSettings() throws {
        let (data, dataset) = try pairedDataset(count: 3)
        let cacheFolder = data.root.appendingPathComponent("cache")
        let config = PreprocessConfig(width: 10, height: 10)
        let loader = try BatchLoader(samples: dataset.samples, preprocess: config, augmentation: nil,
                                     config: LoaderConfig(batchSize: 3, shuffle: false), cacheFolder: cacheFolder)
        let first = try loader.epoch(0).next()!
        let entries = try FileManager.default.contentsOfDirectory(atPath: cacheFolder.path).filter { $0.hasSuffix(".sample") }
        XCTAssertEqual(entries.count, 3)
        let cache = try PreprocessCache(folder: cacheFolder, config: config)
        let cached = try XCTUnwrap(cache.load(dataset.samples[0]))
        let direct = Preprocessor(config).resize(image: try dataset.samples[0].load().image, mask: try dataset.samples[0].load().mask)
        XCTAssertEqual(cached, direct)
        XCTAssertEqual(try loader.epoch(0).next()!.images, first.images, "cached batch equals the fresh one")
        // Other settings → other key; a changed file → other key.
        XCTAssertNil(try PreprocessCache(folder: cacheFolder, config: PreprocessConfig(width: 12, height: 10)).load(dataset.samples[0]))
        let before = cache.entryURL(for: dataset.samples[1])
        try data.write(SyntheticDatasets.image(seed: 99, width: 40, height: 16), "set/images/s1.png")
        XCTAssertNotEqual(cache.entryURL(for: dataset.samples[1]), before)
        // A corrupt entry is a miss, not a crash.
        try Data("junk".utf8).write(to: cache.entryURL(for: dataset.samples[0])!)
        XCTAssertNil(cache.load(dataset.samples[0]))
    }

    func testPreprocessorLetterboxAndInverse() throws {
        let preprocessor = Preprocessor(PreprocessConfig(width: 16, height: 16, normalization: IntensityNormalization(method: .minMax)))
        let image = GrayImage(width: 32, height: 16, pixels: (0..<512).map { Float($0 % 32) / 31 })
        let (input, geometry) = preprocessor.prepare(image)
        XCTAssertEqual([input.width, input.height, geometry.offsetY, geometry.contentHeight], [16, 16, 4, 8])
        XCTAssertEqual(input.pixels.max()!, 1, accuracy: 1e-6)
        let prediction = Letterbox.apply(SyntheticDatasets.mask(width: 32, height: 16, x: 8..<24, y: 4..<12), geometry)
        let back = try Letterbox.invert(prediction, geometry)
        XCTAssertEqual(back, SyntheticDatasets.mask(width: 32, height: 16, x: 8..<24, y: 4..<12))
    }

    func testBenchmarkAndFingerprintRun() throws {
        let (data, dataset) = try pairedDataset(count: 4)
        let result = try benchmarkLoader(samples: dataset.samples, size: 32, batchSize: 2, maxImages: 8)
        XCTAssertEqual(result.images, 8)
        XCTAssertGreaterThan(result.imagesPerSecond, 0)
        let fingerprint = DatasetFingerprint.compute(dataset)
        XCTAssertEqual(fingerprint.samples, 4)
        XCTAssertEqual(fingerprint.medianWidth, 21.5)
        XCTAssertEqual(fingerprint.lesionAreaPixels?.median, 36)
        XCTAssertEqual(fingerprint.lesionsPerImage?.max, 1)
        let url = data.root.appendingPathComponent("fp/fingerprint.json")
        try fingerprint.write(to: url)
        XCTAssertEqual(try DatasetFingerprint.load(url).medianHeight, 16)
    }
}
