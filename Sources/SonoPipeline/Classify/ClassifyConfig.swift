import Foundation
import SonoData

/// What a run learns: the class of an image, the lesion mask, or both from one network.
public enum ClassifyTask: String, Codable, Sendable, CaseIterable { case classify, segment, multitask }

/// The networks of Jimenez & Xu's comparison.
public enum ClassifyModelKind: String, Codable, Sendable, CaseIterable {
    case resnet18, resnet34, resnet50, vgg16, cnn, vit, fcn, uresnet

    /// Segmenters (usable for `segment` and `multitask`); the others are classifiers.
    public var segments: Bool { self == .fcn || self == .uresnet }
}

/// The network choice with every architecture's settings; only the one `kind` names is used. Channel and
/// class counts are filled in from the data when training starts (`resolved`).
public struct ClassifyModelConfig: Codable, Hashable, Sendable {
    public var kind = ClassifyModelKind.resnet18
    /// ResNet classifiers (depth comes from `kind`).
    public var resnet = ResNetConfig(depth: .resnet18)
    public var vgg = VGGConfig()
    public var cnn = SimpleCNNConfig()
    public var vit = ViTConfig()
    /// FCN and UResNet (kind and classification head come from `kind` and the task).
    public var segmenter = BackboneSegmenterConfig()
    public init() {}

    enum CodingKeys: String, CodingKey { case kind, resnet, vgg, cnn, vit, segmenter }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.kind, into: &kind); try c.read(.resnet, into: &resnet); try c.read(.vgg, into: &vgg)
        try c.read(.cnn, into: &cnn); try c.read(.vit, into: &vit); try c.read(.segmenter, into: &segmenter)
    }

    /// This config for `classes` classes (0: no classifier) on grey images of `size`² pixels.
    public func resolved(task: ClassifyTask, classes: Int, size: Int) -> ClassifyModelConfig {
        var c = self
        c.resnet.depth = kind == .resnet34 ? .resnet34 : kind == .resnet50 ? .resnet50 : .resnet18
        (c.resnet.inputChannels, c.resnet.classes) = (1, classes)
        (c.vgg.inputChannels, c.vgg.classes) = (1, classes)
        (c.cnn.inputChannels, c.cnn.classes) = (1, classes)
        (c.vit.inputChannels, c.vit.classes, c.vit.imageSize) = (1, classes, size)
        c.segmenter.kind = kind == .fcn ? .fcn : .uresnet
        c.segmenter.encoder.inputChannels = 1
        c.segmenter.classificationClasses = task == .multitask ? classes : 0
        return c
    }
}

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
public struct ClassifyConfig: Codable, Equatable, Sendable {
    public var name = "classify"
    public var task = ClassifyTask.classify
    public var model = ClassifyModelConfig()
    public var data: [DataSource] = []
    /// Class order of the labels and outputs; nil: the sorted class names of the training images.
    public var classNames: [String]?
    /// The positive class for two-class AUC (ignored when absent from `classNames`).
    public var positiveClass = "malignant"
    public var classWeighting = ClassWeighting.inverseFrequency
    public var classWeights: [Float]?
    public var sampler = SamplerKind.shuffle
    /// Multitask loss = segmentationWeight · segmentation loss + classificationWeight · cross-entropy.
    public var segmentationWeight: Float = 1
    public var classificationWeight: Float = 1
    public var segmentationLoss = SegmentationLossConfig()
    public var optimizer = OptimizerConfig()
    public var epochs = 30
    public var batchSize = 8
    public var preprocess = PreprocessConfig(width: 128, height: 128)
    public var augmentation = AugmentationConfig()
    public var augment = true
    public var split = SplitConfiguration()
    public var fold: Int?
    public var seed: UInt64 = 0
    public var earlyStoppingPatience: Int?
    /// Lesion probability threshold for Dice and the saved model.
    public var threshold: Float = 0.5
    public var onError = ErrorPolicy.fail
    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, task, model, data, classNames, positiveClass, classWeighting, classWeights, sampler
        case segmentationWeight, classificationWeight, segmentationLoss, optimizer, epochs, batchSize, preprocess
        case augmentation, augment, split, fold, seed, earlyStoppingPatience, threshold, onError
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.read(.name, into: &name); try c.read(.task, into: &task); try c.read(.model, into: &model)
        try c.read(.data, into: &data); try c.read(.classNames, into: &classNames)
        try c.read(.positiveClass, into: &positiveClass); try c.read(.classWeighting, into: &classWeighting)
        try c.read(.classWeights, into: &classWeights); try c.read(.sampler, into: &sampler)
        try c.read(.segmentationWeight, into: &segmentationWeight); try c.read(.classificationWeight, into: &classificationWeight)
        try c.read(.segmentationLoss, into: &segmentationLoss); try c.read(.optimizer, into: &optimizer)
        try c.read(.epochs, into: &epochs); try c.read(.batchSize, into: &batchSize); try c.read(.preprocess, into: &preprocess)
        try c.read(.augmentation, into: &augmentation); try c.read(.augment, into: &augment); try c.read(.split, into: &split)
        try c.read(.fold, into: &fold); try c.read(.seed, into: &seed)
        try c.read(.earlyStoppingPatience, into: &earlyStoppingPatience); try c.read(.threshold, into: &threshold)
        try c.read(.onError, into: &onError)
    }

    public var classifies: Bool { task != .segment }
    public var segments: Bool { task != .classify }

    /// Checks values a user can get wrong, with messages that name the setting.
    public func validate() throws {
        func fail(_ m: String) throws { throw PipelineError.invalidConfig(m) }
        if data.isEmpty { try fail("data: name at least one dataset folder") }
        if epochs < 1 { try fail("epochs must be at least 1, got \(epochs)") }
        if batchSize < 1 { try fail("batchSize must be at least 1, got \(batchSize)") }
        if segments && !model.kind.segments {
            try fail("task \(task.rawValue) needs a segmenter (fcn or uresnet), not \(model.kind.rawValue)")
        }
        if task == .classify && model.kind.segments {
            try fail("model \(model.kind.rawValue) segments; use task segment or multitask, or a classifier (resnet18, resnet34, resnet50, vgg16, cnn, vit)")
        }
        if preprocess.width != preprocess.height { try fail("preprocess size must be square, got \(preprocess.width)x\(preprocess.height)") }
        let multiple = model.kind == .vit ? model.vit.patchSize : model.kind == .cnn ? 1 << model.cnn.widths.count : 32
        if preprocess.width % multiple != 0 { try fail("preprocess size \(preprocess.width) must be a multiple of \(multiple) for \(model.kind.rawValue)") }
        if classWeighting == .given && classWeights == nil { try fail("classWeighting 'given' needs classWeights") }
        if let names = classNames, names.count < 2 && classifies { try fail("classNames needs at least two classes, got \(names)") }
        if segmentationWeight < 0 || classificationWeight < 0 { try fail("loss weights must be ≥ 0") }
        if !(0...1).contains(threshold) { try fail("threshold must be in [0, 1], got \(threshold)") }
    }

    /// The `TrainConfig` whose data settings `TrainingData.prepare` reads (datasets, split, fold).
    var dataConfig: TrainConfig {
        var t = TrainConfig()
        (t.data, t.split, t.fold, t.preprocess, t.onError) = (data, split, fold, preprocess, onError)
        return t
    }

    /// Reads a JSON recipe; unknown files and bad JSON give errors naming the file.
    public static func load(_ url: URL) throws -> ClassifyConfig {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PipelineError.unreadable(url.path, "file not found or not readable")
        }
        do { return try JSONDecoder().decode(ClassifyConfig.self, from: data) } catch {
            throw PipelineError.unreadable(url.path, "not a valid classification recipe: \(describe(error))")
        }
    }
}
