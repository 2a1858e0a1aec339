import SonoBase
import SonoNN
import SonoTensor
/// ResNet (He et al. 2016) in torchvision's layout: `conv1`, `bn1`, `layer1`…`layer4` of basic (18, 34) or
/// bottleneck (50) blocks, `fc`. Parameter names match torchvision's `state_dict` (`layer1.0.conv1.weight`,
/// `layer2.0.downsample.0.weight`, …), so its weights load by name when `inputChannels` and `classes` agree.
///
/// Input [N, inputChannels, H, W] → logits [N, classes]. `features` gives the encoder maps for segmentation:
/// stem [N, w, H/2, W/2] and stages at strides 4, 8, 16, 32 (H and W divisible by 32 for clean decoding).
public struct ResNetConfig: Codable, Hashable, Sendable, DefaultDecodable {
    public enum Depth: Int, Codable, Sendable, CaseIterable { case resnet18 = 18, resnet34 = 34, resnet50 = 50 }

    public var depth = Depth.resnet50
    public var inputChannels = 1
    /// Output classes of `fc`; 0 builds the encoder alone (no `fc`).
    public var classes = 3
    /// Channels of the stem and first stage (64 in the paper); smaller values make a narrow ResNet for the CPU.
    public var baseWidth = 64
    /// Dropout before `fc` (0 in torchvision).
    public var dropout: Float = 0
    public init() {}
    public init(depth: Depth, inputChannels: Int = 1, classes: Int = 3, baseWidth: Int = 64) {
        (self.depth, self.inputChannels, self.classes, self.baseWidth) = (depth, inputChannels, classes, baseWidth)
    }

    /// Blocks per stage.
    public var blocks: [Int] {
        switch depth {
        case .resnet18: return [2, 2, 2, 2]
        case .resnet34, .resnet50: return [3, 4, 6, 3]
        }
    }
    public var bottleneck: Bool { depth == .resnet50 }
    /// Output channels of each stage.
    public var stageChannels: [Int] { (0..<4).map { (baseWidth << $0) * (bottleneck ? 4 : 1) } }

    enum CodingKeys: String, CodingKey { case depth, inputChannels, classes, baseWidth, dropout }
}

/// conv → BN (→ ReLU), the unit every ResNet block is made of; no conv bias, as in torchvision.
func resnetConv(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, rng: inout RandomGenerator) -> Conv2D {
    let conv = Conv2D(inputChannels: cin, outputChannels: cout, kernelSize: kernel, stride: stride, padding: kernel / 2,
                      bias: false, rng: &rng)
    kaimingNormal(conv.weight, fanOut: cout * kernel * kernel, rng: &rng)
    return conv
}

/// He initialisation, N(0, 2/fan_out), as torchvision initialises ResNet convolutions.
func kaimingNormal(_ weight: Tensor, fanOut: Int, rng: inout RandomGenerator) {
    weight.assign(Tensor.normal(weight.shape, std: (2 / Float(fanOut)).squareRoot(), rng: &rng))
}

/// The projection shortcut `downsample`: 1x1 conv with stride, then BN (names `downsample.0`, `downsample.1`).
func downsample(_ cin: Int, _ cout: Int, stride: Int, rng: inout RandomGenerator) -> Sequential {
    Sequential([resnetConv(cin, cout, kernel: 1, stride: stride, rng: &rng), BatchNorm(channels: cout)])
}

/// Two 3x3 convolutions with a shortcut: [N, cin, H, W] → [N, cout, H/stride, W/stride].
public final class BasicBlock: Layer {
    public let conv1: Conv2D, bn1: BatchNorm, conv2: Conv2D, bn2: BatchNorm
    public let downsample: Sequential?
    public var isTraining = true

    public init(_ cin: Int, _ width: Int, stride: Int, rng: inout RandomGenerator) {
        conv1 = resnetConv(cin, width, kernel: 3, stride: stride, rng: &rng); bn1 = BatchNorm(channels: width)
        conv2 = resnetConv(width, width, kernel: 3, rng: &rng); bn2 = BatchNorm(channels: width)
        downsample = stride != 1 || cin != width ? SonoModels.downsample(cin, width, stride: stride, rng: &rng) : nil
    }

    public var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (downsample.map { [("downsample", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = bn2(conv2(bn1(conv1(x)).relu()))
        return (h + (downsample?(x) ?? x)).relu()
    }
}

/// 1x1 reduce → 3x3 (with the stride, torchvision's "ResNet v1.5") → 1x1 expand ×4, with a shortcut:
/// [N, cin, H, W] → [N, 4·width, H/stride, W/stride].
public final class Bottleneck: Layer {
    public let conv1: Conv2D, bn1: BatchNorm, conv2: Conv2D, bn2: BatchNorm, conv3: Conv2D, bn3: BatchNorm
    public let downsample: Sequential?
    public var isTraining = true

    public init(_ cin: Int, _ width: Int, stride: Int, rng: inout RandomGenerator) {
        let cout = width * 4
        conv1 = resnetConv(cin, width, kernel: 1, rng: &rng); bn1 = BatchNorm(channels: width)
        conv2 = resnetConv(width, width, kernel: 3, stride: stride, rng: &rng); bn2 = BatchNorm(channels: width)
        conv3 = resnetConv(width, cout, kernel: 1, rng: &rng); bn3 = BatchNorm(channels: cout)
        downsample = stride != 1 || cin != cout ? SonoModels.downsample(cin, cout, stride: stride, rng: &rng) : nil
    }

    public var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3)]
            + (downsample.map { [("downsample", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = bn1(conv1(x)).relu()
        h = bn2(conv2(h)).relu()
        h = bn3(conv3(h))
        return (h + (downsample?(x) ?? x)).relu()
    }
}

/// The ResNet encoder's maps, finest first.
public struct EncoderFeatures {
    /// After conv1/bn1/relu: [N, baseWidth, H/2, W/2].
    public var stem: Tensor
    /// layer1…layer4: strides 4, 8, 16, 32.
    public var stages: [Tensor]
}

public final class ResNet: Layer {
    public let config: ResNetConfig
    public let conv1: Conv2D, bn1: BatchNorm
    public let layers: [Sequential]
    public let dropout: Dropout?
    public let fc: Linear?
    public var isTraining = true

    public init(_ config: ResNetConfig, rng: inout RandomGenerator) {
        precondition(config.inputChannels > 0 && config.baseWidth > 0 && config.classes >= 0,
                     "ResNet: input channels and base width must be positive, classes ≥ 0, got \(config)")
        self.config = config
        let w = config.baseWidth
        conv1 = resnetConv(config.inputChannels, w, kernel: 7, stride: 2, rng: &rng)
        bn1 = BatchNorm(channels: w)
        var cin = w
        var layers: [Sequential] = []
        for (stage, count) in config.blocks.enumerated() {
            let width = w << stage
            var blocks: [Layer] = []
            for i in 0..<count {
                let stride = i == 0 && stage > 0 ? 2 : 1
                if config.bottleneck {
                    blocks.append(Bottleneck(cin, width, stride: stride, rng: &rng)); cin = width * 4
                } else {
                    blocks.append(BasicBlock(cin, width, stride: stride, rng: &rng)); cin = width
                }
            }
            layers.append(Sequential(blocks))
        }
        self.layers = layers
        dropout = config.classes > 0 && config.dropout > 0 ? Dropout(config.dropout, rng: &rng) : nil
        fc = config.classes > 0 ? Linear(inputFeatures: cin, outputFeatures: config.classes, rng: &rng) : nil
    }

    public var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1)] + layers.enumerated().map { ("layer\($0.offset + 1)", $0.element as Module) }
            + (dropout.map { [("dropout", $0)] } ?? []) + (fc.map { [("fc", $0)] } ?? [])
    }

    /// Channels of the deepest map (the classifier's input).
    public var featureChannels: Int { config.stageChannels[3] }

    /// x [N, inputChannels, H, W] → stem and the four stage maps.
    public func features(_ x: Tensor) -> EncoderFeatures {
        precondition(x.rank == 4 && x.shape[1] == config.inputChannels && x.shape[2] >= 32 && x.shape[3] >= 32,
                     "ResNet: input \(x.shape) must be [N, \(config.inputChannels), H, W] with H, W ≥ 32")
        let stem = bn1(conv1(x)).relu()
        var h = stem.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        var stages: [Tensor] = []
        for layer in layers { h = layer(h); stages.append(h) }
        return EncoderFeatures(stem: stem, stages: stages)
    }

    /// x [N, inputChannels, H, W] → logits [N, classes].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard let fc else { preconditionFailure("ResNet built without a classifier (classes = 0) has no logits; use features(_:)") }
        var pooled = features(x).stages[3].globalAvgPool()
        if let dropout { pooled = dropout(pooled) }
        return fc(pooled)
    }
}
