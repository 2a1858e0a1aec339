import Foundation
import SonoData
import SonoModels
import SonoNN

/// One dataset folder used for training and evaluation.
public struct DataSource: Codable, Hashable, Sendable {
    /// The folder as downloaded (layout detected unless `layout` is given).
    public var path: String
    public var layout: DatasetLayout?
    /// Classes left out entirely (e.g. BUSI's `normal` for lesion segmentation).
    public var excludeClasses: [String] = []
    /// A split file to reuse; when absent the run makes one and writes it to its folder.
    public var split: String?
    /// How many times each training image of this dataset appears per epoch (each time augmented afresh):
    /// keeps a small dataset from being drowned by a large one in a combined run. Validation and test are
    /// unaffected.
    public var repeats = 1

    public init(path: String, layout: DatasetLayout? = nil, excludeClasses: [String] = [], split: String? = nil,
                repeats: Int = 1) {
        (self.path, self.layout, self.excludeClasses, self.split, self.repeats) = (path, layout, excludeClasses, split, repeats)
    }

    static let repeatsRange = 1...1000

    enum CodingKeys: String, CodingKey { case path, layout, excludeClasses, split, repeats }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        try c.read(.layout, into: &layout)
        try c.read(.excludeClasses, into: &excludeClasses)
        try c.read(.split, into: &split)
        try c.read(.repeats, into: &repeats)
        // Each repeat is another pass over the dataset per epoch: 1e9 would grow an epoch's list without end.
        guard Self.repeatsRange.contains(repeats) else {
            throw DecodingError.dataCorruptedError(forKey: .repeats, in: c, debugDescription: "repeats is \(repeats); allowed: \(Self.repeatsRange.lowerBound)-\(Self.repeatsRange.upperBound)")
        }
    }
}

/// Optimizer and learning-rate schedule.
public struct OptimizerConfig: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case adam, adamw, sgd }
    public enum Schedule: String, Codable, Sendable, CaseIterable { case constant, exponential, step, cosine, polynomial }
    public var kind = Kind.adam
    public var learningRate: Float = 1e-3
    public var momentum: Float = 0.9
    public var nesterov = false
    public var weightDecay: Float = 0
    /// Adam's moment decay rates.
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var schedule = Schedule.cosine
    /// exponential: rate multiplied by `decayRate` every `decaySteps` steps (Duffy: 0.96 per 1,000).
    public var decayRate: Float = 0.96
    public var decaySteps = 1000
    /// step: multiply by `decayRate` every `decaySteps` steps.
    /// cosine: linear warm-up steps.
    public var warmupSteps = 0
    public var gradientClipNorm: Float?

    public init() {}

    /// Li et al.'s discriminator optimizer: Adam, β1 = 0.5, constant 1e-4.
    public static var discriminator: OptimizerConfig {
        var c = OptimizerConfig()
        (c.learningRate, c.beta1, c.schedule) = (1e-4, 0.5, .constant)
        return c
    }

    public func makeSchedule() -> LearningRateSchedule {
        switch schedule {
        case .constant: return .constant(learningRate)
        case .exponential: return .exponential(initial: learningRate, decayRate: decayRate, decaySteps: decaySteps)
        case .step: return .step(initial: learningRate, gamma: decayRate, stepSize: decaySteps)
        case .cosine: return .cosine(peak: learningRate, warmupSteps: warmupSteps)
        case .polynomial: return .polynomial(initial: learningRate)
        }
    }

    public func makeOptimizer() -> Optimizer {
        switch kind {
        case .adam: return Adam(beta1: beta1, beta2: beta2, weightDecay: weightDecay)
        case .adamw: return Adam(beta1: beta1, beta2: beta2, weightDecay: weightDecay, decoupled: true)
        case .sgd: return SGD(momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        }
    }

    enum CodingKeys: String, CodingKey {
        case kind, learningRate, momentum, nesterov, weightDecay, beta1, beta2, schedule, decayRate, decaySteps, warmupSteps
        case gradientClipNorm
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.kind, into: &kind); try c.read(.learningRate, into: &learningRate)
        try c.read(.momentum, into: &momentum); try c.read(.nesterov, into: &nesterov)
        try c.read(.weightDecay, into: &weightDecay); try c.read(.schedule, into: &schedule)
        try c.read(.beta1, into: &beta1); try c.read(.beta2, into: &beta2)
        try c.read(.decayRate, into: &decayRate); try c.read(.decaySteps, into: &decaySteps)
        try c.read(.warmupSteps, into: &warmupSteps); try c.read(.gradientClipNorm, into: &gradientClipNorm)
    }
}

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
        let problems = model.problems + self.preprocess.problems
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

public enum PipelineError: Error, CustomStringConvertible, LocalizedError {
    case invalidConfig(String)
    case unreadable(String, String)
    case noModel(String)
    case emptyDataset(String)
    /// A training loss stopped being a number.
    case diverged(String)
    public var description: String {
        switch self {
        case let .invalidConfig(m): return "invalid configuration: \(m)"
        case let .unreadable(file, m): return "\(file): \(m)"
        case let .noModel(m): return m
        case let .emptyDataset(m): return m
        case let .diverged(m): return m
        }
    }
    public var errorDescription: String? { description }
}
