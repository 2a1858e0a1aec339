import SonoConvNets
import Foundation
import SonoPipeline
import SonoImplicit
import SonoData

/// Which trainer a recipe belongs to, so that `sonoseg train RECIPE` runs any of SonoSeg's recipes: U-Net
/// segmentation (`TrainConfig`), a classifier / backbone segmenter / multitask model (`ClassifyConfig`) or an
/// implicit network (`ImplicitTrainConfig`).
public enum RecipeKind: String, Sendable, CaseIterable {
    case unet, classify, implicit

    /// Read from the recipe's keys: a `task` or a `model.kind` names a classification-family recipe;
    /// `model.latentDims`, `model.activation` or `loss.reconstruction` an implicit one; anything else is a U-Net
    /// recipe. Unreadable files and bad JSON give errors naming the file; a `base` recipe counts.
    public static func detect(_ url: URL) throws -> RecipeKind { try detect(RecipeFile.data(url), path: url.path) }

    /// The kind of the resolved recipe bytes `data` (from the file at `path`).
    static func detect(_ data: Data, path: String) throws -> RecipeKind {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PipelineError.unreadable(path, "a recipe is a JSON object")
        }
        let model = object["model"] as? [String: Any] ?? [:]
        let loss = object["loss"] as? [String: Any] ?? [:]
        if object["task"] != nil || model["kind"] != nil { return .classify }
        if model["latentDims"] != nil || model["activation"] != nil || loss["reconstruction"] != nil { return .implicit }
        return .unet
    }

    /// The kind a `--model` name selects: `unet`, `implicit`, or one of `ClassifyModelKind`'s networks.
    public static func forModel(_ name: String) -> RecipeKind? {
        if name == "unet" { return .unet }
        if name == "implicit" { return .implicit }
        return ClassifyModelKind(rawValue: name) != nil ? .classify : nil
    }
}

/// A recipe file read once (its `base` resolved) into the typed configuration of its trainer. Command-line
/// settings are then applied to this value, and the trainer is built from the result.
public enum Recipe {
    case unet(TrainConfig)
    case classify(ClassifyConfig)
    case implicit(ImplicitTrainConfig)

    public static func load(_ url: URL) throws -> Recipe {
        try decode(RecipeFile.data(url), path: url.path)
    }

    /// Resolved recipe bytes (from the file at `path`) as the typed value of their kind.
    public static func decode(_ data: Data, path: String) throws -> Recipe {
        let recipe: Recipe = switch try RecipeKind.detect(data, path: path) {
        case .unet: .unet(try RecipeFile.decode(TrainConfig.self, data: data, path: path, what: "training recipe"))
        case .classify: .classify(try RecipeFile.decode(ClassifyConfig.self, data: data, path: path, what: "classification recipe"))
        case .implicit: .implicit(try RecipeFile.decode(ImplicitTrainConfig.self, data: data, path: path, what: "implicit-network recipe"))
        }
        // A split the file names must exist: SplitStore would otherwise create it at that path, wherever that is
        // (outside the run folder), and a later run would reuse it as if it had been chosen. Grid and
        // cross-validation runs set their own splits inside their folder after this.
        for (i, source) in recipe.data.enumerated() {
            if let split = source.split, !FileManager.default.fileExists(atPath: split) {
                throw PipelineError.unreadable(path, "data[\(i)].split: the split file '\(split)' is missing; name an existing one, or leave 'split' out and the run makes its own inside its folder")
            }
        }
        return recipe
    }

    /// The datasets the recipe trains on.
    var data: [DataSource] {
        switch self { case .unet(let c): c.data; case .classify(let c): c.data; case .implicit(let c): c.data }
    }

    /// `validate()` with the recipe file named: the values are the file's, overridden by any command-line
    /// settings, and a message that names only the key leaves a user with several recipes guessing.
    public func validate(recipe file: String?) throws {
        do { try validate() } catch PipelineError.invalidConfig(let message) {
            throw PipelineError.invalidConfig(file.map { "\($0): \(message)" } ?? message)
        }
    }

    /// Checks the values of whichever recipe this is.
    func validate() throws {
        switch self {
        case .unet(let c): try c.validate()
        case .classify(let c): try c.validate()
        case .implicit(let c): try c.validate()
        }
    }

    public var kind: RecipeKind {
        switch self { case .unet: return .unet; case .classify: return .classify; case .implicit: return .implicit }
    }
}
