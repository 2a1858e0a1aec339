import SonoBase
import Foundation
import SonoData
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
public struct OptimizerConfig: Codable, Hashable, Sendable, DefaultDecodable {
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
