import Foundation
import SonoMetrics
import SonoPipeline
import SonoBase
import SonoModels
import SonoNN
import SonoTensor

/// Class logits and/or lesion logits of a batch.
public struct TaskOutput {
    /// [N, classes], when the network classifies.
    public var classLogits: Tensor?
    /// [N, 1, H, W], when the network segments.
    public var segmentationLogits: Tensor?
}

/// One of the comparison's networks behind a common call: x [N, 1, H, W] → `TaskOutput`. `module` holds the
/// parameters under the architecture's own (torchvision) names.
public final class TaskNetwork {
    enum Body { case classifier(Layer), segmenter(BackboneSegmenter) }
    public let config: ClassifyModelConfig
    let body: Body

    /// `config` must be resolved (`ClassifyModelConfig.resolved`).
    public init(_ config: ClassifyModelConfig, rng: inout RandomGenerator) {
        self.config = config
        switch config.kind {
        case .resnet18, .resnet34, .resnet50: body = .classifier(ResNet(config.resnet, rng: &rng))
        case .vgg16: body = .classifier(VGG(config.vgg, rng: &rng))
        case .cnn: body = .classifier(SimpleCNN(config.cnn, rng: &rng))
        case .vit: body = .classifier(VisionTransformer(config.vit, rng: &rng))
        case .fcn, .uresnet: body = .segmenter(makeBackboneSegmenter(config.segmenter, rng: &rng))
        }
    }

    public var module: Module {
        switch body {
        case let .classifier(m): return m
        case let .segmenter(m): return m
        }
    }

    public var classifies: Bool {
        if case let .segmenter(s) = body { return s.config.classificationClasses > 0 }
        return true
    }
    public var segments: Bool { config.kind.segments }

    public func callAsFunction(_ x: Tensor) -> TaskOutput {
        switch body {
        case let .classifier(m): return TaskOutput(classLogits: m(x), segmentationLogits: nil)
        case let .segmenter(m):
            let o = m.forward(x)
            return TaskOutput(classLogits: o.classification, segmentationLogits: o.segmentation)
        }
    }
}
