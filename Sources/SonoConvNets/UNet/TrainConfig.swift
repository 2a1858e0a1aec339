import Foundation
import SonoMetrics
import SonoPipeline
import SonoData
import SonoModels
import SonoNN

/// Deep supervision with adversarial constraints (Li et al., Eq. 1-2): Dice on the 1x1 heads of the last
/// `stages` decoder stages, weighted by `weights` (finest first), plus one discriminator per supervised stage
/// with adversarial weight `beta`. `stages == 0` is a plain U-Net.
public struct DeepSupervisionConfig: Codable, Hashable, Sendable {
    public var stages = 0
    public var weights: [Float] = [1, 0.1, 0.1, 0.1]
    public var adversarial = true
    public var beta: Float = 0.05
    /// The discriminators' optimizer and schedule (each discriminator has its own state): Li et al.'s Adam with
    /// β1 = 0.5 at a constant 1e-4 by default.
    public var discriminatorOptimizer = OptimizerConfig.discriminator
    public init() {}

    enum CodingKeys: String, CodingKey { case stages, weights, adversarial, beta, discriminatorOptimizer, discriminatorLearningRate }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.stages, into: &stages); try c.read(.weights, into: &weights)
        try c.read(.adversarial, into: &adversarial); try c.read(.beta, into: &beta)
        try c.read(.discriminatorOptimizer, into: &discriminatorOptimizer)
        // Older recipes name only the rate.
        try c.read(.discriminatorLearningRate, into: &discriminatorOptimizer.learningRate)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stages, forKey: .stages); try c.encode(weights, forKey: .weights)
        try c.encode(adversarial, forKey: .adversarial); try c.encode(beta, forKey: .beta)
        try c.encode(discriminatorOptimizer, forKey: .discriminatorOptimizer)
    }
}

/// Everything a training run needs, written to its folder as `config.json` so the folder reproduces it.
/// Data, optimizer, epochs and the other settings shared with classification recipes are in `settings`
/// (`config.epochs` reads them).
@dynamicMemberLookup
public struct TrainConfig: Codable, Equatable, Sendable, HasTrainingSettings {
    public var name = "unet"
    public var model = UNetConfig()
    public var deepSupervision = DeepSupervisionConfig()
    public var loss = SegmentationLossConfig()
    public var settings = TrainingSettings(epochs: 40)
    /// Start from these weights instead of a random initialisation (fine-tuning): a model file or its run
    /// folder, with the same U-Net architecture. Heads the file lacks (deep supervision) start random.
    public var initialWeights: String?

    public init() {}

    enum CodingKeys: String, CodingKey { case name, model, deepSupervision, loss, initialWeights }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.name, into: &name); try c.read(.model, into: &model)
        try c.read(.deepSupervision, into: &deepSupervision); try c.read(.loss, into: &loss)
        try c.read(.initialWeights, into: &initialWeights)
        try settings.read(from: decoder)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(model, forKey: .model)
        try c.encode(deepSupervision, forKey: .deepSupervision); try c.encode(loss, forKey: .loss)
        try c.encodeIfPresent(initialWeights, forKey: .initialWeights)
        try settings.write(to: encoder)
    }

    /// Checks values a user can get wrong, with messages that name the setting.
    public func validate() throws {
        func fail(_ m: String) throws { throw PipelineError.invalidConfig(m) }
        try settings.validate()
        let problems = model.problems + self.preprocess.problems + loss.problems
        if !problems.isEmpty { try fail(problems.joined(separator: "; ")) }
        let f = 1 << model.depth
        if self.preprocess.width % f != 0 || self.preprocess.height % f != 0 {
            try fail("preprocess size \(self.preprocess.width)x\(self.preprocess.height) must be divisible by 2^depth = \(f)")
        }
        if deepSupervision.stages < 0 || deepSupervision.stages > model.depth {
            try fail("deepSupervision.stages must be in 0...\(model.depth), got \(deepSupervision.stages)")
        }
        if deepSupervision.stages > deepSupervision.weights.count {
            try fail("deepSupervision.weights has \(deepSupervision.weights.count) entries for \(deepSupervision.stages) stages")
        }
    }

    /// Reads a JSON recipe; unknown files and bad JSON give errors naming the file.
    public static func load(_ url: URL) throws -> TrainConfig {
        try RecipeFile.decode(TrainConfig.self, from: url, what: "training recipe")
    }
}


extension TrainingData {
    /// The samples of a U-Net recipe's datasets and splits.
    public static func prepare(_ config: TrainConfig, runFolder: URL, log: (String) -> Void = { _ in }) throws -> TrainingData {
        try prepare(config.settings, runFolder: runFolder, log: log)
    }
}
