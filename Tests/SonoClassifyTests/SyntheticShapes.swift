import SonoConvNets
import Foundation
import SonoBase
import SonoImaging
import SonoPipeline
import SonoModels
import SonoTensor
import SonoKernels
import XCTest

/// A bright disc (class 0) or square (class 1) of random size and place on a noisy background, and its mask.
func shape(square: Bool, size: Int, rng: inout RandomGenerator) -> (GrayImage, Mask) {
    let r = Float(size) * (0.16 + 0.12 * rng.uniform())
    let cx = r + 1 + (Float(size) - 2 * r - 2) * rng.uniform(), cy = r + 1 + (Float(size) - 2 * r - 2) * rng.uniform()
    var pixels = [Float](repeating: 0, count: size * size), m = [UInt8](repeating: 0, count: size * size)
    for y in 0..<size {
        for x in 0..<size {
            let (dx, dy) = (Float(x) + 0.5 - cx, Float(y) + 0.5 - cy)
            let inside = square ? max(abs(dx), abs(dy)) < r * 0.9 : dx * dx + dy * dy < r * r
            pixels[y * size + x] = min(1, max(0, (inside ? 0.7 : 0.3) + 0.2 * (rng.uniform() - 0.5)))
            m[y * size + x] = inside ? 1 : 0
        }
    }
    return (GrayImage(width: size, height: size, pixels: pixels), Mask(width: size, height: size, pixels: m))
}

/// A BUSI-layout folder: benign/ holds discs, malignant/ squares (`case N.png` with `case N_mask.png`).
func makeShapeBUSI(perClass: Int, size: Int = 64, seed: UInt64 = 1) throws -> URL {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-shapes-\(UUID().uuidString)")
    var rng = RandomGenerator(seed: seed)
    for (name, square) in [("benign", false), ("malignant", true)] {
        let folder = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for i in 0..<perClass {
            let (img, mask) = shape(square: square, size: size, rng: &rng)
            try ImageIO.writePNG(img, to: folder.appendingPathComponent("\(name) (\(i + 1)).png"))
            try ImageIO.writePNG(mask, to: folder.appendingPathComponent("\(name) (\(i + 1))_mask.png"))
        }
    }
    return root
}

/// Tensors of `count` alternating discs and squares: images and masks [count, 1, size, size], labels.
func shapeBatch(count: Int, size: Int, rng: inout RandomGenerator) -> (Tensor, Tensor, [Int]) {
    var images: [Float] = [], masks: [Float] = [], labels: [Int] = []
    for i in 0..<count {
        let (img, m) = shape(square: i % 2 == 1, size: size, rng: &rng)
        images += img.pixels.map { ($0 - 0.5) / 0.25 }
        masks += m.pixels.map(Float.init)
        labels.append(i % 2)
    }
    return (Tensor(images, shape: [count, 1, size, size]), Tensor(masks, shape: [count, 1, size, size]), labels)
}

/// A small recipe for the shape data.
func tinyRecipe(data: URL, task: ClassifyTask, model: ClassifyModelKind, epochs: Int) -> ClassifyConfig {
    var c = ClassifyConfig()
    (c.task, c.model.kind, c.data, c.epochs, c.batchSize, c.augment) = (task, model, [DataSource(path: data.path)], epochs, 4, false)
    (c.preprocess.width, c.preprocess.height) = (64, 64)
    c.model.resnet.baseWidth = 16
    c.model.cnn.widths = [16, 32, 32]
    c.model.segmenter.encoder = ResNetConfig(depth: .resnet18, inputChannels: 1, classes: 0, baseWidth: 16)
    (c.model.segmenter.decoderChannels, c.model.segmenter.classificationHidden) = ([64, 32, 32, 16, 16], 16)
    (c.optimizer.learningRate, c.optimizer.schedule) = (3e-3, .constant)
    (c.split.folds, c.split.testFraction, c.split.validationFraction) = (0, 0.25, 0.25)
    return c
}

/// Tests that train: one worker thread (bit-identical runs whatever the machine) and fresh temporary folders.
class SingleThreadedRunTestCase: XCTestCase {
    private var threads = 0
    override func setUp() { threads = Parallel.threads; Parallel.threads = 1 }
    override func tearDown() { Parallel.threads = threads }

    func tmp(_ name: String) -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("sonoseg-\(name)-\(UUID().uuidString)") }
}
