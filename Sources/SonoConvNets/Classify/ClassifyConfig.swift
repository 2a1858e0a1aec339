import Foundation
import SonoMetrics
import SonoPipeline
import SonoData
import SonoModels
import SonoNN

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

    /// Sizes no network can have, each naming the key, the value and the allowed range (empty when fine). Only
    /// the architecture `kind` names is checked; the others are not built.
    public var problems: [String] {
        var out: [String] = []
        func check<T: Comparable>(_ key: String, _ value: T, _ allowed: ClosedRange<T>) {
            if !allowed.contains(value) { out.append("model.\(key) is \(value); allowed: \(allowed.lowerBound)-\(allowed.upperBound)") }
        }
        switch kind {
        case .resnet18, .resnet34, .resnet50:
            check("resnet.baseWidth", resnet.baseWidth, 1...512); check("resnet.dropout", resnet.dropout, 0...0.99)
        case .vgg16:
            check("vgg.widthDivisor", vgg.widthDivisor, 1...64); check("vgg.pooledSize", vgg.pooledSize, 1...32)
            check("vgg.hidden", vgg.hidden, 1...65_536); check("vgg.dropout", vgg.dropout, 0...0.99)
        case .cnn:
            check("cnn.widths count", cnn.widths.count, 1...8); check("cnn.dropout", cnn.dropout, 0...0.99)
            for (i, w) in cnn.widths.enumerated() { check("cnn.widths[\(i)]", w, 1...4096) }
        case .vit:
            check("vit.patchSize", vit.patchSize, 1...256); check("vit.dim", vit.dim, 1...4096); check("vit.depth", vit.depth, 1...64)
            check("vit.heads", vit.heads, 1...64); check("vit.mlpDim", vit.mlpDim, 1...65_536); check("vit.dropout", vit.dropout, 0...0.99)
            if vit.heads > 0 && vit.dim % vit.heads != 0 { out.append("model.vit.dim \(vit.dim) must be a multiple of vit.heads \(vit.heads)") }
        case .fcn, .uresnet:
            check("segmenter.encoder.baseWidth", segmenter.encoder.baseWidth, 1...512)
            check("segmenter.decoderChannels count", segmenter.decoderChannels.count, 5...5)
            for (i, c) in segmenter.decoderChannels.enumerated() { check("segmenter.decoderChannels[\(i)]", c, 1...4096) }
            check("segmenter.headChannels", segmenter.headChannels, 1...4096)
            check("segmenter.classificationHidden", segmenter.classificationHidden, 1...65_536)
            check("segmenter.classificationDropout", segmenter.classificationDropout, 0...0.99)
        }
        return out
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

    /// The `TrainConfig` whose data settings `TrainingData.prepare` reads (datasets, split, fold).
    var dataConfig: TrainConfig {
        var t = TrainConfig()
        t.settings = settings
        return t
    }

    /// Reads a JSON recipe; unknown files and bad JSON give errors naming the file.
    public static func load(_ url: URL) throws -> ClassifyConfig {
        try RecipeFile.decode(ClassifyConfig.self, from: url, what: "classification recipe")
    }
}
