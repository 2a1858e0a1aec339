import Foundation
import SonoImaging
import SonoNN
import SonoTensor

/// A class answer with its distribution: `probabilities` over `names`.
public struct ClassAnswer: Sendable, Equatable {
    public var names: [String]
    public var probabilities: [Float]
    public init(names: [String], probabilities: [Float]) { (self.names, self.probabilities) = (names, probabilities) }
    /// The most probable class (the first on a tie).
    public var label: String { names[probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0] }
    public var probability: Float { probabilities.max() ?? 0 }
}

/// A model's output for one image, at the image's own size.
public struct ImagePrediction {
    /// Lesion probability in [0, 1], the input's width and height (nil for a classifier).
    public var lesion: GrayImage?
    /// Probabilities of the model's own classification head, in its `classNames` order (a task model's head, an
    /// implicit network's code head); nil without one.
    public var classes: [Float]?
    /// A conditioned implicit network's classification by latent search: the class codes that reconstructed the
    /// image best, with softmax(−loss/τ) over each table's classes.
    public var biradsBySearch: ClassAnswer?
    public var pathologyBySearch: ClassAnswer?
    /// An implicit network's reconstruction loss on the visible pixels.
    public var reconstructionLoss: Double?
    /// Pictures the model makes besides the probability, written as STEM_SUFFIX.png (an implicit network's
    /// `reconstruction`, and with `extent` its field beyond the image).
    public var images: [(suffix: String, image: GrayImage)] = []
    /// The lesion probability at another size (`segment --resolution`): an implicit network reads its field at
    /// every output pixel; nil: the probability is resized bilinearly.
    public var readout: ((_ width: Int, _ height: Int) throws -> GrayImage)?

    public init(lesion: GrayImage? = nil, classes: [Float]? = nil) { (self.lesion, self.classes) = (lesion, classes) }

    /// The probability at `width` × `height`, by the model's own readout where it has one.
    public func lesion(width: Int, height: Int) throws -> GrayImage? {
        if let readout { return try readout(width, height) }
        return lesion.map { $0.width == width && $0.height == height ? $0 : $0.resized(width: width, height: height) }
    }
}

/// What `segment`, `evaluate`, the diagnosis fit and every later front end ask of a model, whatever its family:
/// images in (grey, each at its own size); probability, classes and extra images out, at each image's size.
/// One U-Net or task network (`LoadedModel`), several averaged (`ModelEnsemble`), or an implicit network fitted
/// by latent optimisation (`ImplicitSegmenter`).
public protocol Segmenter: AnyObject {
    /// The model file.
    var url: URL { get }
    /// Probability above which a pixel is lesion.
    var threshold: Float { get }
    /// What the model is called in tables (its recipe).
    var name: String { get }
    /// Whether it outputs a lesion probability (a classifier alone does not).
    var segments: Bool { get }
    /// The names of its classification head's classes (nil without one).
    var classNames: [String]? { get }
    /// How many images one `predict` call takes to advantage (an implicit network fits a batch of latents at
    /// once; a convolutional network runs one image at a time).
    var preferredBatch: Int { get }
    /// Whether `flipTTA` applies (checked before a run starts, so a refused flip leaves no half-written folder).
    var supportsFlipTTA: Bool { get }
    /// Each image's prediction; `flipTTA` averages with the mirrored image where the family supports it.
    func predict(_ images: [GrayImage], flipTTA: Bool) throws -> [ImagePrediction]
}

extension Segmenter {
    public var preferredBatch: Int { 1 }
    public var supportsFlipTTA: Bool { true }

    /// One image.
    public func predict(image: GrayImage, flipTTA: Bool = false) throws -> ImagePrediction {
        try predict([image], flipTTA: flipTTA)[0]
    }
}

/// The file `path` names (itself, or a run folder's `model.safetensors`) with its tensors and header.
public func readModelFile(_ path: URL) throws -> (url: URL, tensors: [String: Tensor], metadata: [String: String]) {
    let url = modelFile(path)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw PipelineError.noModel("\(url.path): no such model file")
    }
    let (tensors, metadata) = try Safetensors.read(url)
    return (url, tensors, metadata)
}

/// A model file given as itself or as the run folder holding `model.safetensors`: the one rule every command
/// that takes `--model` follows.
public func modelFile(_ path: URL) -> URL {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir), isDir.boolValue {
        return path.appendingPathComponent("model.safetensors")
    }
    return path
}

/// `value` as one line of JSON with sorted keys: how every model file's header entry is written, so the same
/// model gives the same bytes.
public func headerJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
