import Foundation

/// Which trainer a recipe belongs to, so that `sonoseg train RECIPE` runs any of SonoSeg's recipes: U-Net
/// segmentation (`TrainConfig`), a classifier / backbone segmenter / multitask model (`ClassifyConfig`) or an
/// implicit network (`ImplicitTrainConfig`).
public enum RecipeKind: String, Sendable, CaseIterable {
    case unet, classify, implicit

    /// Read from the recipe's keys: a `task` or a `model.kind` names a classification-family recipe;
    /// `model.latentDims`, `model.activation` or `loss.reconstruction` an implicit one; anything else is a U-Net
    /// recipe. Unreadable files and bad JSON give errors naming the file; a `base` recipe counts.
    public static func detect(_ url: URL) throws -> RecipeKind {
        guard let object = try JSONSerialization.jsonObject(with: RecipeFile.data(url)) as? [String: Any] else {
            throw PipelineError.unreadable(url.path, "a recipe is a JSON object")
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
