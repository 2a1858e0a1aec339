@testable import SonoConvNets
import Foundation
import SonoBase
import SonoImaging
@testable import SonoPipeline

/// A paired-folder dataset of bright discs on a noisy background, written to a temporary folder.
func makeDiscDataset(count: Int, size: Int = 64, seed: UInt64 = 1) throws -> URL {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-discs-\(UUID().uuidString)")
    let images = root.appendingPathComponent("images"), masks = root.appendingPathComponent("masks")
    try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
    var rng = RandomGenerator(seed: seed)
    for i in 0..<count {
        let (img, mask) = disc(size: size, rng: &rng)
        try ImageIO.writePNG(img, to: images.appendingPathComponent("case\(i).png"))
        try ImageIO.writePNG(mask, to: masks.appendingPathComponent("case\(i).png"))
    }
    return root
}

func disc(size: Int, rng: inout RandomGenerator) -> (GrayImage, Mask) {
    let r = Float(size) * (0.15 + 0.15 * rng.uniform())
    let cx = r + (Float(size) - 2 * r) * rng.uniform(), cy = r + (Float(size) - 2 * r) * rng.uniform()
    var pixels = [Float](repeating: 0, count: size * size), m = [UInt8](repeating: 0, count: size * size)
    for y in 0..<size {
        for x in 0..<size {
            let inside = (Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy) < r * r
            pixels[y * size + x] = min(1, max(0, (inside ? 0.7 : 0.3) + 0.1 * (rng.uniform() - 0.5)))
            m[y * size + x] = inside ? 1 : 0
        }
    }
    return (GrayImage(width: size, height: size, pixels: pixels), Mask(width: size, height: size, pixels: m))
}

/// A small, fast recipe for the disc data.
func tinyConfig(data: URL, epochs: Int) -> TrainConfig {
    var c = TrainConfig()
    c.data = [DataSource(path: data.path)]
    c.model.baseChannels = 8
    c.model.depth = 2
    c.preprocess.width = 64
    c.preprocess.height = 64
    c.epochs = epochs
    c.batchSize = 4
    c.augment = false
    c.optimizer.learningRate = 3e-3
    c.optimizer.schedule = .constant
    c.split.folds = 0
    c.split.testFraction = 0.2
    c.split.validationFraction = 0.2
    return c
}

/// A disc dataset of `count` images and a fresh run-folder path, both removed after `body`.
func withDiscRun<T>(count: Int, size: Int, _ body: (_ data: URL, _ run: URL) throws -> T) throws -> T {
    let data = try makeDiscDataset(count: count, size: size)
    let run = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: data); try? FileManager.default.removeItem(at: run) }
    return try body(data, run)
}
