import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase
import SonoData
import SonoImaging
import SonoModels
import SonoNN
import SonoTensor

/// What inference needs besides the weights, stored as JSON in the safetensors header (`sonoseg.model`), so a
/// model is one file that PyTorch's safetensors can also read.
public struct ModelInfo: Codable, Equatable, Sendable {
    public var format = "sonoseg.model/1"
    public var architecture: String
    public var unet: UNetConfig
    public var preprocess: PreprocessConfig
    public var threshold: Float
    /// Deep-supervision heads saved with the weights (not used at inference, kept so the file loads strictly).
    public var stageHeads: Int
    public var metrics: [String: Double]
    public var recipe: String
    /// Classification and backbone models (`sonoseg classify`): the task, the network and the class order of
    /// the classification head's outputs. Absent in U-Net files.
    public var task: ClassifyTask? = nil
    public var classifier: ClassifyModelConfig? = nil
    public var classNames: [String]? = nil
    /// The label the classifier learned (nil: the class).
    public var labels: LabelSource? = nil
    /// Softmax temperature fitted on validation images (`sonoseg classify calibrate`); nil: 1.
    public var temperature: Float? = nil

    static let key = "sonoseg.model"

    static func save(_ model: Module, info: ModelInfo, to url: URL, dtype: Safetensors.Precision = .f32) throws {
        try Safetensors.write(model.stateDict(), metadata: info.metadata(), dtype: dtype, to: url)
    }

    /// The safetensors header entry that carries this description.
    func metadata() throws -> [String: String] { [Self.key: try headerJSON(self)] }

    /// The description in a model file's header, or an error naming `url` and what is wrong.
    static func read(from metadata: [String: String], of url: URL) throws -> ModelInfo {
        guard let json = metadata[key] else {
            throw PipelineError.noModel("\(url.path): not a SonoSeg model (no '\(key)' entry in its header)")
        }
        if let key = duplicateJSONKey(Data(json.utf8)) {
            throw PipelineError.noModel("\(url.path): invalid model description: key '\(key)' appears twice (JSON would keep one of the values)")
        }
        let info: ModelInfo
        do { info = try DefaultsDecoder().decode(ModelInfo.self, from: Data(json.utf8)) } catch {
            throw PipelineError.noModel("\(url.path): unreadable model description: \(describeDecoding(error))")
        }
        return try checked(info, file: url)
    }
}

/// A trained segmenter (or classifier, or both) ready for inference.
/// The networks a model file can hold, built for inference (batch norm folded, no training state).
public enum LoadedNetwork {
    /// `sonoseg train`: a U-Net, with the deep-supervision heads it was trained with.
    case unet(SupervisedUNet)
    /// `sonoseg classify`: a classifier, FCN, UResNet or multitask UResNet.
    case task(TaskNetwork)
}

extension ModelInfo {
    /// The network this description names, with random weights (a model file's are loaded over them, strictly).
    /// Only for a description that passed `problems()`: the initialisers take its sizes on trust.
    public func buildNetwork() -> (LoadedNetwork, Module) {
        var rng = RandomGenerator.forLoadedWeights
        if let classifier {
            let net = TaskNetwork(classifier, rng: &rng)
            return (.task(net), net.module)
        }
        let net = SupervisedUNet(unet, heads: stageHeads, rng: &rng)
        return (.unet(net), net)
    }
}

/// A model file read for inference: what it is (`info`) and the network with its weights.
public final class LoadedModel: Segmenter {
    public let info: ModelInfo
    public let network: LoadedNetwork
    public let url: URL

    /// Reads a model file (or a folder holding `model.safetensors`).
    public convenience init(_ path: URL) throws {
        let (url, tensors, metadata) = try readModelFile(path)
        if let members = ModelEnsemble.memberCount(metadata) {
            throw PipelineError.noModel("\(url.path): an ensemble of \(members) models, which `segment` and `evaluate` read; this command needs one model")
        }
        try self.init(tensors: tensors, info: ModelInfo.read(from: metadata, of: url), url: url)
    }

    /// The network `info` describes, with the weights in `tensors` (every one used, none missing), fused for
    /// inference. Nothing of training (recipe, optimizer, discriminators) is built.
    init(tensors: [String: Tensor], info: ModelInfo, url: URL) throws {
        (self.info, self.url) = (info, url)
        if let problem = invalidStateValues(tensors) { throw PipelineError.noModel("\(url.path): unusable weights: \(problem)") }
        let (network, module) = info.buildNetwork()
        self.network = network
        do { try module.load(stateDict: tensors, strict: true) } catch {
            throw PipelineError.noModel("\(url.path): \(error)")
        }
        module.setTraining(false)
        module.fuseForInference()
    }

    public var threshold: Float { info.threshold }
    public var name: String { info.recipe }
    public var classNames: [String]? { info.classNames }

    /// Lesion probability for a batch of preprocessed images [N, 1, H, W] → [N, 1, H, W] in [0, 1].
    /// With `flipTTA`, averages the prediction of the image and its horizontal mirror.
    public func probabilities(_ x: Tensor, flipTTA: Bool = false) -> [Float] {
        predict(x, flipTTA: flipTTA).lesion ?? [Float](repeating: 0, count: x.count)
    }

    /// Whether the model outputs a lesion mask / a class.
    public var segments: Bool {
        switch network { case .unet: return true; case .task(let net): return net.segments }
    }
    public var classifies: Bool {
        switch network { case .unet: return false; case .task(let net): return net.classifies }
    }

    /// One image at its own size: preprocessed to the network's input, predicted, and the lesion probability
    /// mapped back to the image's width and height.
    public func predict(_ images: [GrayImage], flipTTA: Bool) throws -> [ImagePrediction] {
        try images.map { try predict(image: $0, flipTTA: flipTTA) }
    }

    public func predict(image: GrayImage, flipTTA: Bool = false) throws -> ImagePrediction {
        guard info.preprocess.crop == nil else {
            throw PipelineError.invalidConfig("\(url.path) classifies a window around the lesion and needs its mask (segment with a segmenter first, or evaluate with the ground truth)")
        }
        let (input, geometry) = Preprocessor(info.preprocess).prepare(image)
        let (lesion, classes) = predict(Tensor(input.pixels, shape: [1, 1, input.height, input.width]), flipTTA: flipTTA)
        return ImagePrediction(
            lesion: try lesion.map { try Letterbox.invert(GrayImage(width: input.width, height: input.height, pixels: $0), geometry) },
            classes: classes?.first)
    }

    /// Class probabilities of a lesion-crop classifier for the window around `lesion`'s largest region (one
    /// lesion per window; the whole frame for an empty mask); a whole-image classifier ignores `lesion`.
    public func classify(image: GrayImage, lesion: Mask, flipTTA: Bool = false) throws -> [Float] {
        guard info.preprocess.crop != nil else {
            guard let c = try predict(image: image, flipTTA: flipTTA).classes else {
                throw PipelineError.invalidConfig("\(url.path) has no classification head")
            }
            return c
        }
        let input = Preprocessor(info.preprocess).prepare(image, lesion: lesion.largestComponent())
        guard let c = predict(Tensor(input.pixels, shape: [1, 1, input.height, input.width]), flipTTA: flipTTA).classes?.first else {
            throw PipelineError.invalidConfig("\(url.path) has no classification head")
        }
        return c
    }

    /// One forward pass: lesion probabilities [N·H·W] (nil for a classifier) and class probabilities, a row
    /// per image in `info.classNames` order (nil without a classification head). With `flipTTA`, both are
    /// averaged with the horizontal mirror's.
    public func predict(_ x: Tensor, flipTTA: Bool = false) -> (lesion: [Float]?, classes: [[Float]]?) {
        GradMode.inference {
            func run(_ x: Tensor) -> ([Float]?, [Float]?) {
                switch network {
                case .unet(let net): return (net(x).sigmoid().scalars, nil)
                case .task(let net):
                    let o = net(x)
                    return (o.segmentationLogits?.sigmoid().scalars, o.classLogits.map { ($0 * (1 / (info.temperature ?? 1))).softmax(axis: 1).scalars })
                }
            }
            var (p, c) = run(x)
            if flipTTA {
                let (q, d) = run(Tensor(flipHorizontal(x.scalars, shape: x.shape), shape: x.shape))
                if let q, let pp = p { p = zip(pp, flipHorizontal(q, shape: x.shape)).map { ($0 + $1) / 2 } }
                if let d, let cc = c { c = zip(cc, d).map { ($0 + $1) / 2 } }
            }
            let k = info.classNames?.count ?? 1
            return (p, c.map { v in stride(from: 0, to: v.count, by: k).map { Array(v[$0..<($0 + k)]) } })
        }
    }
}

/// Mirrors the last axis of a row-major [.., W] array.
func flipHorizontal(_ v: [Float], shape: [Int]) -> [Float] {
    let w = shape.last!
    var out = v
    for row in stride(from: 0, to: v.count, by: w) {
        for i in 0..<w { out[row + i] = v[row + w - 1 - i] }
    }
    return out
}
