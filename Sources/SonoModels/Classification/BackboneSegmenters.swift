import SonoBase
import SonoNN
import SonoTensor
/// Segmenters on a ResNet encoder: FCN (Long et al. 2015) and UResNet (U-Net decoder on ResNet stages), each
/// with an optional classification head on the deepest map (the multitask model of Jimenez & Xu).
/// Input [N, inputChannels, H, W] with H, W divisible by 32 → segmentation logits [N, classes, H, W] and,
/// with a head, class logits [N, classificationClasses].
public struct BackboneSegmenterConfig: Codable, Hashable, Sendable, DefaultDecodable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case fcn, uresnet }
    public var kind = Kind.uresnet
    /// The encoder; its `classes` is ignored (no `fc`).
    public var encoder = ResNetConfig(depth: .resnet50, classes: 0)
    /// Segmentation output channels (1: lesion logit).
    public var classes = 1
    /// UResNet: decoder widths at strides 16, 8, 4, 2, 1.
    public var decoderChannels = [256, 128, 64, 32, 16]
    public var upsampling = UNetConfig.Upsampling.transposed
    /// FCN: skips from the stride-16 and stride-8 stages (FCN-8s); false is FCN-32s.
    public var skips = true
    /// FCN: width of the 3x3 conv of the head (torchvision's FCNHead uses C/4).
    public var headChannels = 128
    /// Classes of the classification head; 0 for none.
    public var classificationClasses = 0
    public var classificationHidden = 256
    public var classificationDropout: Float = 0.3
    public init() {}

    enum CodingKeys: String, CodingKey {
        case kind, encoder, classes, decoderChannels, upsampling, skips, headChannels
        case classificationClasses, classificationHidden, classificationDropout
    }
}

/// Segmentation logits and, with a classification head, class logits.
public struct SegmenterOutput {
    /// [N, classes, H, W].
    public var segmentation: Tensor
    /// [N, classificationClasses], or nil.
    public var classification: Tensor?
}

/// A segmenter on a ResNet encoder.
public protocol BackboneSegmenter: Module {
    var config: BackboneSegmenterConfig { get }
    func forward(_ x: Tensor) -> SegmenterOutput
}

/// Builds the segmenter `config.kind` names.
public func makeBackboneSegmenter(_ config: BackboneSegmenterConfig, rng: inout RandomGenerator) -> BackboneSegmenter {
    switch config.kind {
    case .fcn: return FCN(config, rng: &rng)
    case .uresnet: return UResNet(config, rng: &rng)
    }
}

func checkSegmenterInput(_ x: Tensor, _ c: BackboneSegmenterConfig, _ name: String) {
    precondition(x.rank == 4 && x.shape[1] == c.encoder.inputChannels && x.shape[2] % 32 == 0 && x.shape[3] % 32 == 0 && x.shape[2] > 0,
                 "\(name): input \(x.shape) must be [N, \(c.encoder.inputChannels), H, W] with H, W divisible by 32")
}

/// FCN: 3x3 conv → BN → ReLU → 1x1 scores on the stride-32 map, plus (FCN-8s) 1x1 scores of the stride-16 and
/// stride-8 maps added after bilinear upsampling; the sum is upsampled bilinearly to the input size.
/// Names: `backbone.*` (torchvision ResNet names), `head.0` conv, `head.1` BN, `head.3` scores, `score16`, `score8`.
public final class FCN: BackboneSegmenter {
    public let config: BackboneSegmenterConfig
    public let backbone: ResNet
    public let head: Sequential
    public let score16: Conv2D?, score8: Conv2D?
    public let classifier: ClassificationHead?
    public var isTraining = true

    public init(_ config: BackboneSegmenterConfig, rng: inout RandomGenerator) {
        self.config = config
        var e = config.encoder; e.classes = 0
        backbone = ResNet(e, rng: &rng)
        let ch = e.stageChannels
        head = Sequential([
            Conv2D(inputChannels: ch[3], outputChannels: config.headChannels, kernelSize: 3, padding: 1, bias: false, rng: &rng),
            BatchNorm(channels: config.headChannels), Lambda { $0.relu() },
            Conv2D(inputChannels: config.headChannels, outputChannels: config.classes, kernelSize: 1, rng: &rng),
        ])
        score16 = config.skips ? Conv2D(inputChannels: ch[2], outputChannels: config.classes, kernelSize: 1, rng: &rng) : nil
        score8 = config.skips ? Conv2D(inputChannels: ch[1], outputChannels: config.classes, kernelSize: 1, rng: &rng) : nil
        classifier = config.classificationClasses > 0
            ? ClassificationHead(inputChannels: ch[3], hidden: config.classificationHidden, classes: config.classificationClasses,
                                 dropout: config.classificationDropout, rng: &rng) : nil
    }

    public var children: [(String, Module)] {
        [("backbone", backbone), ("head", head)] + (score16.map { [("score16", $0 as Module), ("score8", score8!)] } ?? [])
            + (classifier.map { [("classifier", $0 as Module)] } ?? [])
    }

    public func forward(_ x: Tensor) -> SegmenterOutput {
        checkSegmenterInput(x, config, "FCN")
        let f = backbone.features(x)
        var s = head(f.stages[3])
        if let score16, let score8 {
            s = score16(f.stages[2]) + s.resized(to: (f.stages[2].shape[2], f.stages[2].shape[3]), mode: .bilinear)
            s = score8(f.stages[1]) + s.resized(to: (f.stages[1].shape[2], f.stages[1].shape[3]), mode: .bilinear)
        }
        return SegmenterOutput(segmentation: s.resized(to: (x.shape[2], x.shape[3]), mode: .bilinear),
                               classification: classifier?(f.stages[3]))
    }
}

/// UResNet: a U-Net decoder on the ResNet stages. From the stride-32 map, each step doubles resolution
/// (`up.i`: 2x2 transposed conv, or upsampling + 3x3 conv), concatenates the encoder map of that stride
/// (layer3, layer2, layer1, the stem; none at full resolution) and applies a double conv (`dec.i`); a 1x1
/// `head` gives the logits. Names: `encoder.*` (torchvision ResNet names), `up.i`, `dec.i`, `head`, `classifier`.
public final class UResNet: BackboneSegmenter {
    public let config: BackboneSegmenterConfig
    public let encoder: ResNet
    public let up: [UpStep]
    public let decoder: [DoubleConv]
    public let head: Conv2D
    public let classifier: ClassificationHead?
    public var isTraining = true

    public init(_ config: BackboneSegmenterConfig, rng: inout RandomGenerator) {
        precondition(config.decoderChannels.count == 5 && config.decoderChannels.allSatisfy { $0 > 0 },
                     "UResNet: decoderChannels needs 5 positive widths (strides 16, 8, 4, 2, 1), got \(config.decoderChannels)")
        self.config = config
        var e = config.encoder; e.classes = 0
        encoder = ResNet(e, rng: &rng)
        let ch = e.stageChannels
        let skipChannels = [ch[2], ch[1], ch[0], e.baseWidth, 0]
        let d = config.decoderChannels
        var cin = ch[3]
        var up: [UpStep] = [], dec: [DoubleConv] = []
        for i in 0..<5 {
            up.append(UpStep(cin, d[i], mode: config.upsampling, rng: &rng))
            dec.append(DoubleConv(d[i] + skipChannels[i], d[i], normalization: .batch, rng: &rng))
            cin = d[i]
        }
        (self.up, decoder) = (up, dec)
        head = Conv2D(inputChannels: d[4], outputChannels: config.classes, kernelSize: 1, rng: &rng)
        classifier = config.classificationClasses > 0
            ? ClassificationHead(inputChannels: ch[3], hidden: config.classificationHidden, classes: config.classificationClasses,
                                 dropout: config.classificationDropout, rng: &rng) : nil
    }

    public var children: [(String, Module)] {
        [("encoder", encoder as Module)] + up.enumerated().map { ("up.\($0.offset)", $0.element as Module) }
            + decoder.enumerated().map { ("dec.\($0.offset)", $0.element as Module) } + [("head", head)]
            + (classifier.map { [("classifier", $0 as Module)] } ?? [])
    }

    public func forward(_ x: Tensor) -> SegmenterOutput {
        checkSegmenterInput(x, config, "UResNet")
        let f = encoder.features(x)
        let skips: [Tensor?] = [f.stages[2], f.stages[1], f.stages[0], f.stem, nil]
        var h = f.stages[3]
        for i in 0..<5 {
            h = up[i](h)
            if let s = skips[i] { h = Tensor.concat([s, h], axis: 1) }
            h = decoder[i](h)
        }
        return SegmenterOutput(segmentation: head(h), classification: classifier?(f.stages[3]))
    }
}
