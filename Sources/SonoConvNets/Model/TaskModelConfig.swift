import SonoBase
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
public struct ClassifyModelConfig: Codable, Hashable, Sendable, DefaultDecodable {
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
