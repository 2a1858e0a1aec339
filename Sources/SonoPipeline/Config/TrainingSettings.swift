import Foundation
import SonoData

/// The settings every epoch-based trainer shares (U-Net recipes and classification recipes): data, split,
/// optimizer, epochs, batches, preprocessing, augmentation, seed, early stopping. A recipe writes them at its
/// top level; `TrainConfig` and `ClassifyConfig` read them through `@dynamicMemberLookup`, so
/// `config.epochs` works on both and the decoding, encoding and checks live here once.
public struct TrainingSettings: Equatable, Sendable {
    public var data: [DataSource] = []
    public var optimizer = OptimizerConfig()
    public var epochs: Int
    public var batchSize = 8
    public var preprocess = PreprocessConfig(width: 128, height: 128)
    public var augmentation = AugmentationConfig()
    public var augment = true
    public var split = SplitConfiguration()
    /// Cross-validation fold used as validation set (nil: the split's own validation part).
    public var fold: Int?
    public var seed: UInt64 = 0
    /// Stop after this many epochs without a better validation score (nil: never).
    public var earlyStoppingPatience: Int?
    /// Probability threshold for validation Dice and the saved model.
    public var threshold: Float = 0.5
    public var onError = ErrorPolicy.fail

    public init(epochs: Int) { self.epochs = epochs }

    enum CodingKeys: String, CodingKey {
        case data, optimizer, epochs, batchSize, preprocess, augmentation, augment, split, fold, seed
        case earlyStoppingPatience, threshold, onError
    }

    /// Overwrites the settings a recipe names; the others keep their current (default) values.
    public mutating func read(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.data, into: &data); try c.read(.optimizer, into: &optimizer); try c.read(.epochs, into: &epochs)
        try c.read(.batchSize, into: &batchSize); try c.read(.preprocess, into: &preprocess)
        try c.read(.augmentation, into: &augmentation); try c.read(.augment, into: &augment)
        try c.read(.split, into: &split); try c.read(.fold, into: &fold); try c.readSeed(.seed, into: &seed)
        try c.read(.earlyStoppingPatience, into: &earlyStoppingPatience); try c.read(.threshold, into: &threshold)
        try c.read(.onError, into: &onError)
    }

    /// Writes the settings at the recipe's top level, beside the owner's own keys.
    public func write(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data); try c.encode(optimizer, forKey: .optimizer); try c.encode(epochs, forKey: .epochs)
        try c.encode(batchSize, forKey: .batchSize); try c.encode(preprocess, forKey: .preprocess)
        try c.encode(augmentation, forKey: .augmentation); try c.encode(augment, forKey: .augment)
        try c.encode(split, forKey: .split); try c.encodeIfPresent(fold, forKey: .fold); try c.encode(seed, forKey: .seed)
        try c.encodeIfPresent(earlyStoppingPatience, forKey: .earlyStoppingPatience)
        try c.encode(threshold, forKey: .threshold); try c.encode(onError, forKey: .onError)
    }

    static let epochRange = 1...10_000
    static let batchSizeRange = 1...1024

    /// Checks values a user can get wrong, with messages that name the setting.
    public func validate() throws {
        func fail(_ m: String) throws { throw PipelineError.invalidConfig(m) }
        if data.isEmpty { try fail("data: name at least one dataset folder") }
        // Upper bounds too: a value far past any real run (batchSize 1e12) is a typo that would otherwise
        // allocate until the machine gives out, not a request.
        if !Self.epochRange.contains(epochs) { try fail("epochs is \(epochs); allowed: \(Self.epochRange.lowerBound)-\(Self.epochRange.upperBound)") }
        if !Self.batchSizeRange.contains(batchSize) { try fail("batchSize is \(batchSize); allowed: \(Self.batchSizeRange.lowerBound)-\(Self.batchSizeRange.upperBound)") }
        if !(0...1).contains(threshold) { try fail("threshold must be in [0, 1], got \(threshold)") }
        let lr = optimizer.learningRate
        if !(lr > 0 && lr <= 10) { try fail("optimizer.learningRate is \(lr); allowed: above 0, at most 10") }
        if let p = earlyStoppingPatience, p < 1 { try fail("earlyStoppingPatience is \(p); allowed: 1 or more (leave it out to never stop early)") }
        if let c = optimizer.gradientClipNorm, !(c > 0 && c.isFinite) { try fail("optimizer.gradientClipNorm is \(c); allowed: above 0") }
        if !(augmentation.compressionStepRange.low > 0 && augmentation.compressionStepRange.low <= augmentation.compressionStepRange.high) {
            try fail("augmentation.compressionStepRange is \(augmentation.compressionStepRange.low)-\(augmentation.compressionStepRange.high); allowed: 0 < low ≤ high")
        }
        if !(0...3).contains(augmentation.maxLogGain) { try fail("augmentation.maxLogGain is \(augmentation.maxLogGain); allowed: 0-3") }
        // Every augmentation probability is a probability.
        for child in Mirror(reflecting: augmentation).children {
            if let label = child.label, label.hasSuffix("Probability"), let p = child.value as? Double, !(0...1).contains(p) {
                try fail("augmentation.\(label) is \(p); allowed: 0-1")
            }
        }
    }
}

/// A recipe type built around `TrainingSettings`.
public protocol HasTrainingSettings {
    var settings: TrainingSettings { get set }
}

extension HasTrainingSettings {
    public subscript<T>(dynamicMember path: WritableKeyPath<TrainingSettings, T>) -> T {
        get { settings[keyPath: path] }
        set { settings[keyPath: path] = newValue }
    }
}

extension KeyedDecodingContainer {
    /// A seed: JSONDecoder's own error for -1 or 1.5 in a UInt64 says the number does not fit, which reads as
    /// broken JSON; this says what a seed may be.
    public func readSeed(_ key: Key, into seed: inout UInt64) throws {
        do { try read(key, into: &seed) } catch {
            let given = (try? decode(Int64.self, forKey: key)).map(String.init) ?? (try? decode(Double.self, forKey: key)).map { "\($0)" }
            guard let given else { throw error }
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "seed must be a non-negative integer, got \(given)")
        }
    }
}
