import Foundation
import SonoImaging
import SonoNN
import SonoTensor

/// A model's output for one image, at the image's own size.
public struct ImagePrediction {
    /// Lesion probability in [0, 1], the input's width and height (nil for a classifier).
    public var lesion: GrayImage?
    /// Class probabilities in the model's `classNames` order (nil without a classification head).
    public var classes: [Float]?
}

/// What `segment` and `evaluate` need from a model: one network (`LoadedModel`) or several whose
/// probabilities are averaged (`ModelEnsemble`).
public protocol ImagePredictor: AnyObject {
    var url: URL { get }
    /// Probability above which a pixel is lesion.
    var threshold: Float { get }
    /// What the model is called in tables (its recipe).
    var name: String { get }
    var segments: Bool { get }
    var classNames: [String]? { get }
    func predict(image: GrayImage, flipTTA: Bool) throws -> ImagePrediction
}

/// Reads a model file (or a run folder's `model.safetensors`): one network, or an ensemble file written by
/// `sonoseg export --ensemble`.
public func loadPredictor(_ path: URL) throws -> ImagePredictor {
    let (url, tensors, metadata) = try readModelFile(path)
    if ModelEnsemble.memberCount(metadata) != nil { return try ModelEnsemble(tensors: tensors, metadata: metadata, url: url) }
    return try LoadedModel(tensors: tensors, info: ModelInfo.read(from: metadata, of: url), url: url)
}

/// The file `path` names (itself, or a run folder's `model.safetensors`) with its tensors and header.
func readModelFile(_ path: URL) throws -> (url: URL, tensors: [String: Tensor], metadata: [String: String]) {
    let url = modelFile(path)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw PipelineError.noModel("\(url.path): no such model file")
    }
    let (tensors, metadata) = try Safetensors.read(url)
    return (url, tensors, metadata)
}
