import SonoBase
import SonoNN
import SonoTensor
/// VGG-16 (Simonyan & Zisserman 2015, configuration D) in torchvision's layout: `features` is one sequence
/// of conv (→ BN) → ReLU and max-pools, numbered as torchvision numbers them (`features.0.weight`,
/// `features.28.bias`; with batch norm `features.1.running_mean`, …), then adaptive average pooling to
/// `pooledSize`² and `classifier` = Linear → ReLU → Dropout → Linear → ReLU → Dropout → Linear
/// (`classifier.0`, `.3`, `.6`).
///
/// Input [N, inputChannels, H, W] with H, W divisible by 32 → logits [N, classes]. The standard model
/// (`pooledSize` 7, `hidden` 4096, `widthDivisor` 1) has 138,357,544 parameters for 3 channels and 1000
/// classes; `pooledSize` 1, a smaller `hidden` and a `widthDivisor` give a variant that trains on a CPU.
public struct VGGConfig: Codable, Hashable, Sendable, DefaultDecodable {
    public var inputChannels = 1
    public var classes = 3
    public var batchNorm = false
    /// Convolution widths are 64…512 divided by this.
    public var widthDivisor = 1
    /// Side of the adaptive average pool before the classifier (7 in torchvision).
    public var pooledSize = 7
    public var hidden = 4096
    public var dropout: Float = 0.5
    public init() {}

    /// Conv widths and max-pools ("M" = 0) of configuration D.
    public static let layoutD = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]

    enum CodingKeys: String, CodingKey { case inputChannels, classes, batchNorm, widthDivisor, pooledSize, hidden, dropout }
}

public final class VGG: Layer {
    public let config: VGGConfig
    public let features: Sequential
    public let classifier: Sequential
    /// Indices in `features` of the layer just before each max-pool (the encoder maps at strides 1…16).
    let stageEnds: [Int]
    public var isTraining = true

    public init(_ config: VGGConfig, rng: inout RandomGenerator) {
        precondition(config.widthDivisor >= 1 && config.pooledSize >= 1 && config.hidden >= 1,
                     "VGG: widthDivisor, pooledSize and hidden must be positive, got \(config)")
        self.config = config
        var layers: [Layer] = [], ends: [Int] = []
        var cin = config.inputChannels
        for width in VGGConfig.layoutD {
            if width == 0 {
                ends.append(layers.count - 1)
                layers.append(Lambda { $0.maxPool2d(kernel: (2, 2)) })
                continue
            }
            let cout = max(width / config.widthDivisor, 1)
            layers.append(Conv2D(inputChannels: cin, outputChannels: cout, kernelSize: 3, padding: 1, rng: &rng))
            if config.batchNorm { layers.append(BatchNorm(channels: cout)) }
            layers.append(Lambda { $0.relu() })
            cin = cout
        }
        features = Sequential(layers)
        stageEnds = ends
        let flat = cin * config.pooledSize * config.pooledSize
        classifier = Sequential([
            Linear(inputFeatures: flat, outputFeatures: config.hidden, rng: &rng), Lambda { $0.relu() }, Dropout(config.dropout, rng: &rng),
            Linear(inputFeatures: config.hidden, outputFeatures: config.hidden, rng: &rng), Lambda { $0.relu() }, Dropout(config.dropout, rng: &rng),
            Linear(inputFeatures: config.hidden, outputFeatures: config.classes, rng: &rng),
        ])
    }

    public var children: [(String, Module)] { [("features", features), ("classifier", classifier)] }

    /// The maps before each of the five max-pools (strides 1, 2, 4, 8, 16) and the pooled output (stride 32).
    public func encoderFeatures(_ x: Tensor) -> [Tensor] {
        precondition(x.rank == 4 && x.shape[1] == config.inputChannels && x.shape[2] % 32 == 0 && x.shape[3] % 32 == 0,
                     "VGG: input \(x.shape) must be [N, \(config.inputChannels), H, W] with H, W divisible by 32")
        var out: [Tensor] = []
        var h = x
        for (i, layer) in features.layers.enumerated() {
            h = layer(h)
            if stageEnds.contains(i) { out.append(h) }
        }
        out.append(h)
        return out
    }

    /// x [N, inputChannels, H, W] → logits [N, classes].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = encoderFeatures(x).last!
        return classifier(adaptiveAvgPool(h, to: config.pooledSize).flattened())
    }
}

/// PyTorch's `adaptive_avg_pool2d` for the cases that need no uneven bins: [N, C, H, W] → [N, C, s, s] when
/// H and W are multiples of `s`, or replicated when the map is 1x1 (torchvision's VGG on a small input).
public func adaptiveAvgPool(_ x: Tensor, to s: Int) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    if h == s && w == s { return x }
    if h % s == 0 && w % s == 0 { return x.avgPool2d(kernel: (h / s, w / s)) }
    precondition(h == 1 && w == 1, "adaptiveAvgPool: map \(h)x\(w) does not divide into \(s)x\(s) bins")
    return x.resized(to: (s, s), mode: .nearest)
}
