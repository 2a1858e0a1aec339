import Foundation
import SonoMetrics
import SonoPipeline
import SonoData
import SonoModels
import SonoNN

/// How classes are weighted in the cross-entropy.
public enum ClassWeighting: String, Codable, Sendable, CaseIterable {
    /// All 1.
    case none
    /// n / (k · n_c) from the training split's class counts (scikit-learn's "balanced").
    case inverseFrequency
    /// `classWeights` as given.
    case given
}

/// How training batches are drawn.
public enum SamplerKind: String, Codable, Sendable, CaseIterable {
    /// Every training image once per epoch, shuffled.
    case shuffle
    /// As many draws as images, with replacement, each class equally likely (a weighted sampler).
    case balanced
}

/// A classification / segmentation / multitask run, written to its folder as `config.json`.
@dynamicMemberLookup
public struct ClassifyConfig: Codable, Equatable, Sendable, HasTrainingSettings {
    public var name = "classify"
    public var task = ClassifyTask.classify
    public var model = ClassifyModelConfig()
    public var classNames: [String]?
    /// The label learned: the class (pathology) or the BI-RADS category.
    public var labels = LabelSource.className
    public var positiveClass = "malignant"
    public var classWeighting = ClassWeighting.inverseFrequency
    public var classWeights: [Float]?
    public var sampler = SamplerKind.shuffle
    public var segmentationWeight: Float = 1
    public var classificationWeight: Float = 1
    public var segmentationLoss = SegmentationLossConfig()
    /// Data, optimizer, epochs and the rest shared with U-Net recipes (`config.epochs` reads them).
    public var settings = TrainingSettings(epochs: 30)
    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, task, model, classNames, labels, positiveClass, classWeighting, classWeights, sampler
        case segmentationWeight, classificationWeight, segmentationLoss
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.name, into: &name); try c.read(.task, into: &task); try c.read(.model, into: &model)
        try c.read(.classNames, into: &classNames); try c.read(.labels, into: &labels)
        try c.read(.positiveClass, into: &positiveClass); try c.read(.classWeighting, into: &classWeighting)
        try c.read(.classWeights, into: &classWeights); try c.read(.sampler, into: &sampler)
        try c.read(.segmentationWeight, into: &segmentationWeight); try c.read(.classificationWeight, into: &classificationWeight)
        try c.read(.segmentationLoss, into: &segmentationLoss)
        try settings.read(from: decoder)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(task, forKey: .task); try c.encode(model, forKey: .model)
        try c.encodeIfPresent(classNames, forKey: .classNames); try c.encode(labels, forKey: .labels); try c.encode(positiveClass, forKey: .positiveClass)
        try c.encode(classWeighting, forKey: .classWeighting); try c.encodeIfPresent(classWeights, forKey: .classWeights)
        try c.encode(sampler, forKey: .sampler); try c.encode(segmentationWeight, forKey: .segmentationWeight)
        try c.encode(classificationWeight, forKey: .classificationWeight); try c.encode(segmentationLoss, forKey: .segmentationLoss)
        try settings.write(to: encoder)
    }

    public var classifies: Bool { task != .segment }
    public var segments: Bool { task != .classify }

    /// Checks values a user can get wrong, with messages that name the setting.
    public func validate() throws {
        func fail(_ m: String) throws { throw PipelineError.invalidConfig(m) }
        try settings.validate()
        if let problem = model.problems.first { try fail(problem) }
        if let problem = segmentationLoss.problems.first { try fail("segmentationLoss: \(problem)") }
        // The boundary term is wired into the U-Net's step only; refused here rather than silently left out.
        if segmentationLoss.boundaryWeight != 0 { try fail("segmentationLoss.boundaryWeight is read by U-Net recipes only; remove it here") }
        if let w = classWeights, w.contains(where: { !($0.isFinite && $0 >= 0 && $0 <= 1000) }) { try fail("classWeights must be in 0-1000, got \(w)") }
        if segments && !model.kind.segments {
            try fail("task \(task.rawValue) needs a segmenter (fcn or uresnet), not \(model.kind.rawValue)")
        }
        if task == .classify && model.kind.segments {
            try fail("model \(model.kind.rawValue) segments; use task segment or multitask, or a classifier (resnet18, resnet34, resnet50, vgg16, cnn, vit)")
        }
        let size = settings.preprocess
        if size.width != size.height { try fail("preprocess size must be square, got \(size.width)x\(size.height)") }
        let multiple = model.kind == .vit ? model.vit.patchSize : model.kind == .cnn ? 1 << model.cnn.widths.count : 32
        if size.width % multiple != 0 { try fail("preprocess size \(size.width) must be a multiple of \(multiple) for \(model.kind.rawValue)") }
        if classWeighting == .given && classWeights == nil { try fail("classWeighting 'given' needs classWeights") }
        if let names = classNames, names.count < 2 && classifies { try fail("classNames needs at least two classes, got \(names)") }
        if settings.preprocess.crop != nil && task != .classify { try fail("preprocess.crop needs task classify (a crop has no full-size mask to learn)") }
        if labels != .className && task != .classify { try fail("labels '\(labels.rawValue)' needs task classify") }
        for (key, w) in [("segmentationWeight", segmentationWeight), ("classificationWeight", classificationWeight)] where !(0...1000).contains(w) {
            try fail("\(key) is \(w); allowed: 0-1000")
        }
    }

    /// The data settings `TrainingData.prepare` reads (datasets, split, fold).
    var dataConfig: TrainingSettings { settings }

    /// Reads a JSON recipe; unknown files and bad JSON give errors naming the file.
    public static func load(_ url: URL) throws -> ClassifyConfig {
        try RecipeFile.decode(ClassifyConfig.self, from: url, what: "classification recipe")
    }
}
