import Foundation
import SonoPipeline
import SonoMetrics
import SonoBase
import SonoData
import SonoImaging
import SonoModels
import SonoNN

/// Everything besides the weights that inference needs, stored as JSON in the model file's header.
public struct ImplicitModelInfo: Codable, Sendable, Equatable {
    public var format = ImplicitModel.format
    public var name = "nisf"
    public var network = ImplicitNetworkConfig()
    public var loss = ImplicitLossConfig()
    /// Inference settings; `steps` is K, chosen on the validation split.
    public var inference = ImplicitInferenceConfig()
    /// Training resolution and normalisation: the frame the network was trained in.
    public var preprocess = PreprocessConfig(width: 128, height: 128, normalization: IntensityNormalization(method: .minMax))
    public var latentStd: Float = 1e-2
    /// Mean validation Dice against latent steps (the curve K was read from).
    public var curve: [DicePoint] = []
    public var validationDice: Double?
    public var trainedSteps = 0
    public var trainImages = 0
    public init() {}
}

/// A trained implicit network for inference: MLP weights and class-code tables (the training images' latent
/// table is not shipped) in a safetensors file with `ImplicitModelInfo` in its metadata.
public final class ImplicitModel {
    public static let format = "sonoseg.implicit/1"
    static let formatKey = "format", infoKey = "implicit"
    public let network: ImplicitNetwork
    public var info: ImplicitModelInfo
    /// The file it was read from (nil for a model built in memory); results name it and its SHA-256.
    public private(set) var url: URL?

    public init(network: ImplicitNetwork, info: ImplicitModelInfo) {
        precondition(network.config == info.network, "ImplicitModel: info describes another network")
        (self.network, self.info) = (network, info)
    }

    /// Writes the model atomically.
    public func save(to url: URL) throws {
        try Safetensors.write(network.stateDict(), metadata: [Self.formatKey: Self.format, Self.infoKey: try headerJSON(info)], to: url)
    }

    /// Reads a model written by `save`; every error names the file.
    public convenience init(contentsOf url: URL) throws {
        let file = url.path
        guard FileManager.default.fileExists(atPath: file) else { throw ImplicitModelError.notFound(file: file) }
        let (tensors, metadata) = try Safetensors.read(url)
        guard metadata[Self.formatKey] == Self.format, let json = metadata[Self.infoKey] else {
            throw ImplicitModelError.notAnImplicitModel(file: file, detail: "metadata format is \(metadata[Self.formatKey].map { "'\($0)'" } ?? "missing"), expected '\(Self.format)'")
        }
        let info: ImplicitModelInfo
        do { info = try DefaultsDecoder().decode(ImplicitModelInfo.self, from: Data(json.utf8)) } catch {
            throw ImplicitModelError.invalidInfo(file: file, detail: describeDecoding(error))
        }
        let problems = info.network.problems + info.inference.problems
        guard problems.isEmpty else { throw ImplicitModelError.invalidInfo(file: file, detail: problems.joined(separator: "; ")) }
        if let problem = invalidStateValues(tensors) { throw ImplicitModelError.weightsMismatch(file: file, detail: "unusable weights: \(problem)") }
        var rng = RandomGenerator.forLoadedWeights   // every weight is read below, strictly
        let network = ImplicitNetwork(info.network, rng: &rng)
        do { try network.load(stateDict: tensors, strict: true) } catch {
            throw ImplicitModelError.weightsMismatch(file: file, detail: "\(error)")
        }
        network.setTraining(false)
        self.init(network: network, info: info)
        self.url = url
    }

    /// Whether `url` (a file or run folder) holds an implicit model, from its header alone.
    public static func isImplicitModel(_ path: String) -> Bool {
        (try? Safetensors.readMetadata(locate(path)))?[formatKey] == format
    }

    /// The file itself, or `model.safetensors` inside a run folder.
    public static func locate(_ path: String) -> URL { modelFile(URL(fileURLWithPath: path)) }
}

/// Why an implicit model could not be read. Each case names the file.
public enum ImplicitModelError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case notFound(file: String)
    case notAnImplicitModel(file: String, detail: String)
    case invalidInfo(file: String, detail: String)
    case weightsMismatch(file: String, detail: String)

    public var description: String {
        switch self {
        case let .notFound(f): return "\(f): no such model file"
        case let .notAnImplicitModel(f, d): return "\(f): not a SonoSeg implicit model: \(d)"
        case let .invalidInfo(f, d): return "\(f): model info: \(d)"
        case let .weightsMismatch(f, d): return "\(f): weights do not match the network described in the file: \(d)"
        }
    }
    public var errorDescription: String? { description }
}
